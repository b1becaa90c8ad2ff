#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

namespace test_support {

/// Forwards TCP connections from 127.0.0.1:port() to a target, until stopped: a database that
/// can be taken away (every connection cut, new ones refused) and brought back on the same port,
/// or hidden behind a black hole (nothing forwarded, every connection kept open, new ones
/// accepted: a silent network partition, or a stalled pooler) that can heal.
class TcpProxy {
 public:
  TcpProxy(std::string targetHost, std::uint16_t targetPort);
  ~TcpProxy();

  /// Reserves a free port without listening on it yet.
  std::uint16_t port() const { return port_; }
  void start();
  void stop();
  /// Stops forwarding in both directions without closing anything, until resume().
  void blackHole() { forwarding_ = false; }
  /// Forwards again, what was held back included (as TCP retransmits after a partition heals).
  void resume() { forwarding_ = true; }
  /// Closes new connections as soon as they are accepted while `refusing` (a server that turns
  /// clients away); those already open go on as they were.
  void refuseNewConnections(bool refusing) { refusing_ = refusing; }
  /// Accepts new connections while `holding` but neither forwards nor answers them, until
  /// cutHeldConnections() closes them (a server that fails a connect only after a while).
  void holdNewConnections(bool holding) { holding_ = holding; }
  /// Forwards the next `forwarded` new connections, then holds the later ones (a network that
  /// falls silent while a client is connecting again).
  void holdNewConnectionsAfter(int forwarded) {
    forwardBeforeHolding_ = forwarded;
    holding_ = true;
  }
  void cutHeldConnections();
  /// How many connections were accepted, refused and held ones included.
  int accepted() const { return accepted_; }

 private:
  void acceptLoop();
  void forward(Poco::Net::StreamSocket client);

  std::string targetHost_;
  std::uint16_t targetPort_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Poco::Net::ServerSocket> listener_;
  std::atomic<bool> running_{false};
  std::atomic<bool> forwarding_{true};
  std::atomic<bool> refusing_{false};
  std::atomic<bool> holding_{false};
  std::atomic<int> forwardBeforeHolding_{0};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<Poco::Net::StreamSocket> open_;
  std::vector<Poco::Net::StreamSocket> held_;
  std::vector<std::thread> forwarders_;
};

}  // namespace test_support
