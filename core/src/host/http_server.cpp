#include "http_server.h"

#include <sys/socket.h>

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SocketAddress.h>

namespace svc::host {

namespace {

Poco::Timespan timespan(std::chrono::milliseconds duration) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(duration.count()) * 1000);
}

Poco::Net::HTTPServerParams::Ptr serverParams(const ServerSettings& settings) {
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(settings.maxThreads);
  params->setMaxQueued(settings.maxQueued);
  params->setTimeout(timespan(settings.receiveTimeout));  // a read from a client waits at most this long
  params->setKeepAlive(settings.keepAlive);
  params->setKeepAliveTimeout(timespan(settings.keepAliveTimeout));
  return params;
}

}  // namespace

HttpServer::HttpServer(const ServerSettings& settings, const Dispatcher& dispatcher, HttpMetrics& metrics,
                       const Logger& logger)
    : settings_(settings), threads_("http", 2, settings.maxThreads + 1) {
  // reuseAddress for quick restarts, but not reusePort, which POCO's two-argument bind also
  // sets: a second instance on the same port must fail, not silently share it.
  socket_.bind(Poco::Net::SocketAddress(settings.host, settings.port), true, false);
  socket_.listen(settings.backlog);
  port_ = socket_.address().port();
  const Poco::Net::HTTPServerParams::Ptr params = serverParams(settings);
  server_ = std::make_unique<Poco::Net::TCPServer>(
      new ConnectionFactory({.dispatcher = dispatcher,
                             .metrics = metrics,
                             .logger = logger,
                             .settings = settings_,
                             .params = params,
                             .tracker = connections_}),
      threads_, socket_, params);
}

HttpServer::~HttpServer() {
  if (running_) stop(std::chrono::milliseconds(0));
  threads_.joinAll();
}

void HttpServer::start() {
  server_->start();
  running_ = true;
}

bool HttpServer::stop(std::chrono::milliseconds grace) {
  if (!running_) return true;
  running_ = false;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  // On Linux, shutting a listening socket down refuses new connections at once (POCO's
  // acceptor only notices its stop flag at its next poll), and wakes the acceptor.
  ::shutdown(socket_.impl()->sockfd(), SHUT_RD);
  server_->stop();
  socket_.close();
  connections_.beginStop();
  if (connections_.waitUntilNoneBefore(deadline)) return true;
  connections_.abortAll();
  return false;
}

}  // namespace svc::host
