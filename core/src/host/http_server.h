#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include "settings.h"

namespace svc::host {

/// POCO's thread-per-connection HTTP server with the .ini's thread, queue and keep-alive settings.
class HttpServer {
 public:
  /// Binds and listens at once: throws Poco::Net::NetException when the address is taken.
  HttpServer(const ServerSettings& settings, Poco::Net::HTTPRequestHandlerFactory::Ptr factory);
  ~HttpServer();

  std::uint16_t port() const { return port_; }
  void start();

  /// Stops accepting (new connections are refused), lets requests in progress finish within
  /// `grace` and closes idle keep-alive connections. Returns false when some request was still
  /// running after `grace`: its thread may still use the routes and storage.
  bool stop(std::chrono::milliseconds grace);

 private:
  Poco::Net::ServerSocket socket_;
  std::uint16_t port_ = 0;
  Poco::ThreadPool threads_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  bool running_ = false;
};

}  // namespace svc::host
