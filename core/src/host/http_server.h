#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <Poco/Net/ServerSocket.h>

#include "connection.h"
#include "dispatcher.h"
#include "event_loop.h"
#include "http_metrics.h"
#include "settings.h"
#include "worker_pool.h"

namespace svc::host {

/// The HTTP/1.1 server: `io_threads` event loops hold every open connection (up to
/// `max_connections`, beyond which a newcomer takes an idle keep-alive connection's place or gets
/// 503) at the cost of a socket and a buffer each; requests whose handler may block run on
/// `max_threads` workers, with up to `max_queued` waiting for one.
class HttpServer {
 public:
  /// Binds and listens at once: throws Poco::Net::NetException when the address is taken.
  HttpServer(const ServerSettings& settings, const Dispatcher& dispatcher, HttpMetrics& metrics, WorkerPool& workers,
             const Logger& logger);
  ~HttpServer();

  std::uint16_t port() const { return port_; }
  void start();

  /// Stops accepting (new connections are refused), closes idle keep-alive connections, lets
  /// requests in progress finish within `grace`, answering them with Connection: close.
  /// Returns false when some request was still running after `grace`: its worker may still
  /// use the routes and storage.
  bool stop(std::chrono::milliseconds grace);

 private:
  void acceptConnections();
  void admitOverCapacity(const Poco::Net::StreamSocket& socket);
  void refuseOverCapacity(const Poco::Net::StreamSocket& socket);

  const ServerSettings& settings_;
  const Logger& logger_;
  Poco::Net::ServerSocket socket_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_{0};
  WorkerPool& workers_;
  ConnectionEnvironment environment_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::size_t nextLoop_ = 0;
  Clock::time_point lastAcceptFailureLogged_;
  bool running_ = false;
};

/// The open files `connections` need, with room for refusals, database sessions and logs.
std::uint64_t filesNeededFor(std::uint64_t connections);
/// Raises the soft limit on open files to `wanted` (bounded by the hard limit); returns the limit
/// now in force.
std::uint64_t raiseOpenFileLimit(std::uint64_t wanted);

}  // namespace svc::host
