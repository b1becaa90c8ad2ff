#include "http_server.h"

#include <sys/socket.h>

#include <future>
#include <memory>
#include <thread>

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
  params->setTimeout(timespan(settings.receiveTimeout));
  params->setKeepAlive(settings.keepAlive);
  params->setKeepAliveTimeout(timespan(settings.keepAliveTimeout));
  params->setMaxKeepAliveRequests(settings.maxKeepAliveRequests);
  return params;
}

}  // namespace

HttpServer::HttpServer(const ServerSettings& settings, Poco::Net::HTTPRequestHandlerFactory::Ptr factory)
    : threads_("http", 2, settings.maxThreads + 1) {
  // reuseAddress for quick restarts, but not reusePort, which POCO's two-argument bind also
  // sets: a second instance on the same port must fail, not silently share it.
  socket_.bind(Poco::Net::SocketAddress(settings.host, settings.port), true, false);
  socket_.listen(settings.backlog);
  port_ = socket_.address().port();
  server_ = std::make_unique<Poco::Net::HTTPServer>(factory, threads_, socket_, serverParams(settings));
}

HttpServer::~HttpServer() {
  if (running_) {
    server_->stopAll(true);
    threads_.joinAll();
  }
}

void HttpServer::start() {
  server_->start();
  running_ = true;
}

bool HttpServer::stop(std::chrono::milliseconds grace) {
  if (!running_) return true;
  running_ = false;
  // On Linux, shutting a listening socket down refuses new connections at once (POCO's
  // acceptor only notices its stop flag at its next poll), and wakes the acceptor.
  ::shutdown(socket_.impl()->sockfd(), SHUT_RD);
  server_->stop();
  socket_.close();
  // Without abort, POCO waits for each connection's request in progress, then shuts the socket.
  // That wait is unbounded, so it runs on its own thread; past the grace period the caller exits
  // without waiting for it (a std::async future would block in its destructor).
  auto drained = std::make_shared<std::promise<void>>();
  std::future<void> done = drained->get_future();
  std::thread([this, drained] {
    server_->stopAll(false);
    drained->set_value();
  }).detach();
  if (done.wait_for(grace) == std::future_status::timeout) {
    server_->stopAll(true);
    return false;
  }
  threads_.joinAll();
  return true;
}

}  // namespace svc::host
