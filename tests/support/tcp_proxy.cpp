#include "support/tcp_proxy.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

#include "support/server_process.h"

namespace test_support {

TcpProxy::TcpProxy(std::string targetHost, std::uint16_t targetPort)
    : targetHost_(std::move(targetHost)), targetPort_(targetPort), port_(unusedPort()) {}

TcpProxy::~TcpProxy() { stop(); }

void TcpProxy::start() {
  listener_ = std::make_unique<Poco::Net::ServerSocket>();
  listener_->bind(Poco::Net::SocketAddress("127.0.0.1", port_), true);
  listener_->listen(64);
  running_ = true;
  acceptor_ = std::thread([this] { acceptLoop(); });
}

void TcpProxy::stop() {
  if (!running_.exchange(false)) return;
  acceptor_.join();
  listener_->close();
  {
    std::lock_guard lock(mutex_);
    for (auto& socket : open_) {
      try {
        socket.shutdown();
      } catch (...) {
      }
    }
  }
  for (auto& forwarder : forwarders_) forwarder.join();
  forwarders_.clear();
  open_.clear();
  cutHeldConnections();
}

void TcpProxy::cutHeldConnections() {
  std::lock_guard lock(mutex_);
  for (auto& socket : held_) socket.close();
  held_.clear();
}

void TcpProxy::acceptLoop() {
  while (running_) {
    if (!listener_->poll(Poco::Timespan(0, 20000), Poco::Net::Socket::SELECT_READ)) continue;
    try {
      Poco::Net::StreamSocket client = listener_->acceptConnection();
      ++accepted_;
      if (refusing_) {
        client.close();
        continue;
      }
      std::lock_guard lock(mutex_);
      if (holding_ && forwardBeforeHolding_.fetch_sub(1) <= 0) {
        held_.push_back(client);
        continue;
      }
      forwarders_.emplace_back([this, client] { forward(client); });
    } catch (const Poco::Exception&) {
    }
  }
}

void TcpProxy::forward(Poco::Net::StreamSocket client) {
  Poco::Net::StreamSocket server;
  try {
    server.connect(Poco::Net::SocketAddress(targetHost_, targetPort_));
  } catch (const Poco::Exception&) {
    client.close();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    open_.push_back(client);
    open_.push_back(server);
  }
  char buffer[16384];
  while (running_) {
    if (!forwarding_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    Poco::Net::Socket::SocketList readable{client, server}, writable, failed{client, server};
    if (Poco::Net::Socket::select(readable, writable, failed, Poco::Timespan(0, 20000)) == 0) continue;
    if (!failed.empty()) break;
    bool closed = false;
    for (auto& socket : readable) {
      Poco::Net::StreamSocket from(socket);
      Poco::Net::StreamSocket& to = from == client ? server : client;
      int count = 0;
      try {
        count = from.receiveBytes(buffer, sizeof buffer);
        if (count > 0) to.sendBytes(buffer, count);
      } catch (const Poco::Exception&) {
        count = 0;
      }
      closed = closed || count <= 0;
    }
    if (closed) break;
  }
  client.close();
  server.close();
}

}  // namespace test_support
