#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include "connection.h"
#include "dispatcher.h"
#include "http_metrics.h"
#include "settings.h"

namespace svc::host {

/// POCO's TCP server, a thread per connection, serving HTTP through ServiceConnection with the
/// .ini's thread, queue, keep-alive and timeout settings.
class HttpServer {
 public:
  /// Binds and listens at once: throws Poco::Net::NetException when the address is taken.
  HttpServer(const ServerSettings& settings, const Dispatcher& dispatcher, HttpMetrics& metrics, const Logger& logger);
  ~HttpServer();

  std::uint16_t port() const { return port_; }
  void start();

  /// Stops accepting (new connections are refused), closes idle keep-alive connections, lets
  /// requests in progress finish within `grace`. Returns false when some request was still
  /// running after `grace`: its thread may still use the routes and storage.
  bool stop(std::chrono::milliseconds grace);

 private:
  const ServerSettings& settings_;
  Poco::Net::ServerSocket socket_;
  std::uint16_t port_ = 0;
  ConnectionTracker connections_;
  Poco::ThreadPool threads_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
  bool running_ = false;
};

}  // namespace svc::host
