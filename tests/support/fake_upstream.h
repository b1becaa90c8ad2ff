#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

namespace test_support {

/// A request FakeUpstream received.
struct ReceivedRequest {
  std::string method;
  std::string target;
  Poco::Net::NameValueCollection headers;  ///< names case-insensitive
  std::string body;
};

/// Another service, for the upstream client's tests: an HTTP/1.1 server on 127.0.0.1, a thread
/// per connection, keeping connections alive, told how to behave from the next request on.
/// stop() closes its port (connections are refused) and start() opens the same port again.
class FakeUpstream {
 public:
  FakeUpstream();  ///< started
  ~FakeUpstream();

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Answers `status` after `delay`.
  void answer(int status, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  /// Answers these statuses to the next requests, one each, then as answer() said.
  void answerNext(std::vector<int> statuses);
  /// Reads requests and never answers (a service that hangs, or a network that drops its packets).
  void blackHole();
  /// Sends the head and part of the body it announces, then closes the connection.
  void closeMidAnswer();

  void start();
  void stop();

  int accepted() const { return accepted_; }  ///< connections accepted
  int requestCount() const { return requestCount_; }
  std::vector<ReceivedRequest> requests() const;

 private:
  enum class Mode { Answer, BlackHole, CloseMidAnswer };

  void acceptLoop();
  void serve(Poco::Net::StreamSocket socket);
  bool readRequest(Poco::Net::StreamSocket& socket, std::string& input, ReceivedRequest& request);
  bool respond(Poco::Net::StreamSocket& socket);
  void pause(std::chrono::milliseconds delay) const;

  std::uint16_t port_ = 0;
  std::unique_ptr<Poco::Net::ServerSocket> listener_;
  std::atomic<bool> running_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requestCount_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  Mode mode_ = Mode::Answer;
  int status_ = 200;
  std::chrono::milliseconds delay_{0};
  std::deque<int> nextStatuses_;
  std::vector<ReceivedRequest> requests_;
  std::vector<Poco::Net::StreamSocket> open_;
  std::vector<std::thread> connections_;
};

}  // namespace test_support
