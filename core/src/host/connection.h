#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include "dispatcher.h"
#include "http_metrics.h"
#include "settings.h"

namespace svc::host {

class ServiceConnection;

/// The connections being served, so that shutdown can close the idle ones at once, let those
/// with a request in progress finish it, and cut off whatever is left when the grace period ends.
/// Its watchdog cuts off clients whose request does not arrive by its deadline.
class ConnectionTracker {
 public:
  ConnectionTracker();
  ~ConnectionTracker();

  void add(ServiceConnection& connection);
  void remove(ServiceConnection& connection);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  /// From now on no connection takes another request; idle ones are closed now.
  void beginStop();
  /// Whether every connection ended before `deadline`.
  bool waitUntilNoneBefore(std::chrono::steady_clock::time_point deadline);
  /// Shuts down the sockets of the connections still open.
  void abortAll();

 private:
  mutable std::mutex mutex_;
  std::condition_variable ended_;
  void watch();

  std::set<ServiceConnection*> connections_;
  std::atomic<bool> stopping_{false};  // read without the lock: connections hold their own while asking
  bool watching_ = true;
  std::condition_variable stopWatching_;
  std::thread watchdog_;
};

/// POCO's HTTP session, waiting for requests with one poll() call (POCO 1.11 creates an epoll
/// instance per wait).
class ServiceSession final : public Poco::Net::HTTPServerSession {
 public:
  using HTTPServerSession::HTTPServerSession;

  /// Whether a request starts within `timeout`: its first bytes have arrived. False when the
  /// client closed the connection (or it was shut down) instead.
  bool waitForRequest(std::chrono::milliseconds timeout);
};

/// What every connection of one server shares.
struct ConnectionEnvironment {
  const Dispatcher& dispatcher;
  HttpMetrics& metrics;
  const Logger& logger;
  const ServerSettings& settings;
  Poco::Net::HTTPServerParams::Ptr params;
  ConnectionTracker& tracker;
};

/// Serves the requests of one keep-alive connection on one pool thread (POCO's model): reads
/// each request's head and body within their limits and deadline, answers what cannot be read
/// with a problem document, and hands the rest to the dispatcher.
class ServiceConnection final : public Poco::Net::TCPServerConnection {
 public:
  ServiceConnection(const Poco::Net::StreamSocket& socket, ConnectionEnvironment environment);
  ~ServiceConnection() override;

  void run() override;
  /// Shuts the socket down if no request is in progress; true if it did.
  bool closeIfIdle();
  void abort();
  /// Stops reading a request that is still arriving after its deadline (the watchdog calls this).
  void enforceDeadline(std::chrono::steady_clock::time_point now);

 private:
  bool startRequest(ServiceSession& session, bool first);
  /// Serves one request; returns whether the connection stays open for another.
  bool serveOne(ServiceSession& session, bool lastAllowed);
  /// Answers a request that cannot be read (counted as route "unmatched"); `method` may be empty.
  void rejectAndClose(Poco::Net::HTTPServerResponse& response, int status, const std::string& detail,
                      const std::string& method);

  ConnectionEnvironment shared_;
  std::mutex stateMutex_;
  bool idle_ = true;
  bool closed_ = false;
  std::atomic<std::chrono::steady_clock::rep> deadline_{0};  ///< 0 when no request is being read
  std::atomic<bool> timedOut_{false};
  std::chrono::steady_clock::time_point requestStarted_;
};

class ConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit ConnectionFactory(ConnectionEnvironment environment) : environment_(std::move(environment)) {}

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new ServiceConnection(socket, environment_);
  }

 private:
  const ConnectionEnvironment environment_;
};

}  // namespace svc::host
