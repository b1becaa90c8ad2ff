#include "support/fake_upstream.h"

#include <sstream>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

namespace test_support {

namespace {

const Poco::Timespan kPollInterval(0, 20000);

void sendAll(Poco::Net::StreamSocket& socket, const std::string& data) {
  socket.sendBytes(data.data(), static_cast<int>(data.size()));
}

}  // namespace

FakeUpstream::FakeUpstream() { start(); }

FakeUpstream::~FakeUpstream() { stop(); }

void FakeUpstream::answer(int status, std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  mode_ = Mode::Answer;
  status_ = status;
  delay_ = delay;
}

void FakeUpstream::answerNext(std::vector<int> statuses) {
  std::lock_guard lock(mutex_);
  nextStatuses_.assign(statuses.begin(), statuses.end());
}

void FakeUpstream::blackHole() {
  std::lock_guard lock(mutex_);
  mode_ = Mode::BlackHole;
}

void FakeUpstream::closeMidAnswer() {
  std::lock_guard lock(mutex_);
  mode_ = Mode::CloseMidAnswer;
}

std::vector<ReceivedRequest> FakeUpstream::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeUpstream::start() {
  listener_ = std::make_unique<Poco::Net::ServerSocket>();
  listener_->bind(Poco::Net::SocketAddress("127.0.0.1", port_), true);
  listener_->listen(64);
  port_ = listener_->address().port();
  running_ = true;
  acceptor_ = std::thread([this] { acceptLoop(); });
}

void FakeUpstream::stop() {
  if (!running_.exchange(false)) return;
  acceptor_.join();
  listener_->close();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mutex_);
    for (auto& socket : open_) {
      try {
        socket.shutdown();
      } catch (const Poco::Exception&) {
      }
    }
    connections.swap(connections_);
  }
  for (auto& connection : connections) connection.join();
  std::lock_guard lock(mutex_);
  open_.clear();
}

void FakeUpstream::acceptLoop() {
  while (running_) {
    if (!listener_->poll(kPollInterval, Poco::Net::Socket::SELECT_READ)) continue;
    try {
      Poco::Net::StreamSocket socket = listener_->acceptConnection();
      ++accepted_;
      std::lock_guard lock(mutex_);
      open_.push_back(socket);
      connections_.emplace_back([this, socket] { serve(socket); });
    } catch (const Poco::Exception&) {
    }
  }
}

void FakeUpstream::serve(Poco::Net::StreamSocket socket) {
  std::string input;
  try {
    while (running_) {
      ReceivedRequest request;
      if (!readRequest(socket, input, request)) break;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
      }
      ++requestCount_;
      if (!respond(socket)) break;
    }
  } catch (const Poco::Exception&) {
  }
  socket.close();
}

// A head, then as many bytes of body as it announces; false when the connection ends first.
bool FakeUpstream::readRequest(Poco::Net::StreamSocket& socket, std::string& input, ReceivedRequest& request) {
  std::size_t headEnd = std::string::npos;
  std::size_t bodyLength = 0;
  char buffer[4096];
  while (running_) {
    if (headEnd == std::string::npos && (headEnd = input.find("\r\n\r\n")) != std::string::npos) {
      std::istringstream head(input.substr(0, headEnd + 4));
      Poco::Net::HTTPRequest parsed;
      parsed.read(head);
      request.method = parsed.getMethod();
      request.target = parsed.getURI();
      request.headers = parsed;
      bodyLength = parsed.hasContentLength() ? static_cast<std::size_t>(parsed.getContentLength64()) : 0;
      headEnd += 4;
    }
    if (headEnd != std::string::npos && input.size() >= headEnd + bodyLength) {
      request.body = input.substr(headEnd, bodyLength);
      input.erase(0, headEnd + bodyLength);
      return true;
    }
    if (!socket.poll(kPollInterval, Poco::Net::Socket::SELECT_READ)) continue;
    const int count = socket.receiveBytes(buffer, sizeof buffer);
    if (count <= 0) return false;
    input.append(buffer, static_cast<std::size_t>(count));
  }
  return false;
}

// False when the connection is to be closed.
bool FakeUpstream::respond(Poco::Net::StreamSocket& socket) {
  std::unique_lock lock(mutex_);
  const Mode mode = mode_;
  const std::chrono::milliseconds delay = delay_;
  int status = status_;
  if (!nextStatuses_.empty()) {
    status = nextStatuses_.front();
    nextStatuses_.pop_front();
  }
  lock.unlock();
  switch (mode) {
    case Mode::BlackHole:
      while (running_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      return false;
    case Mode::CloseMidAnswer:
      sendAll(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n0123456789");
      return false;
    case Mode::Answer:
      break;
  }
  pause(delay);
  const std::string body = "{\"status\":" + std::to_string(status) + "}";
  sendAll(socket, "HTTP/1.1 " + std::to_string(status) + " Status\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body);
  return true;
}

void FakeUpstream::pause(std::chrono::milliseconds delay) const {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (running_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace test_support
