#include "http_server.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

namespace svc::host {

namespace {

// Files the process needs beside its client connections: database sessions, logs, plugins.
constexpr std::uint64_t kOtherFiles = 1024;
// Connections over the cap are answered 503 and closed; past this many more they are closed
// at once, so that a flood cannot use up the files the refusals themselves need.
constexpr std::size_t kRefusalHeadroom = 512;
constexpr int kAcceptsPerWakeUp = 64;

}  // namespace

std::uint64_t filesNeededFor(std::uint64_t connections) { return connections + kRefusalHeadroom + kOtherFiles; }

std::uint64_t raiseOpenFileLimit(std::uint64_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

HttpServer::HttpServer(const ServerSettings& settings, const Dispatcher& dispatcher, HttpMetrics& metrics,
                       WorkerPool& workers, const Logger& logger)
    : settings_(settings),
      logger_(logger),
      workers_(workers),
      environment_{.dispatcher = dispatcher,
                   .metrics = metrics,
                   .logger = logger,
                   .settings = settings_,
                   .workers = workers_,
                   .stopping = stopping_} {
  const std::uint64_t needed = filesNeededFor(static_cast<std::uint64_t>(settings.maxConnections));
  const std::uint64_t files = raiseOpenFileLimit(needed);
  (files >= needed ? logger.info("Open-file limit", {{"limit", files}, {"needed", needed}})
                   : logger.warning("Open-file limit below what max_connections needs; raise the hard limit",
                                    {{"limit", files}, {"needed", needed}}));
  // reuseAddress for quick restarts, but not reusePort, which POCO's two-argument bind also
  // sets: a second instance on the same port must fail, not silently share it.
  socket_.bind(Poco::Net::SocketAddress(settings.host, settings.port), true, false);
  socket_.listen(settings.backlog);
  socket_.setBlocking(false);
  port_ = socket_.address().port();
  for (int i = 0; i < settings.ioThreads; ++i) loops_.push_back(std::make_unique<EventLoop>(environment_, open_));
  loops_.front()->listen(socket_, [this] { acceptConnections(); });
}

HttpServer::~HttpServer() {
  if (running_) stop(std::chrono::milliseconds(0));
  workers_.stop();
  for (auto& loop : loops_) loop->stop();
}

void HttpServer::start() {
  for (auto& loop : loops_) loop->start();
  running_ = true;
}

// On the first loop's thread, whenever the listening socket is readable.
void HttpServer::acceptConnections() {
  for (int i = 0; i < kAcceptsPerWakeUp; ++i) {
    Poco::Net::StreamSocket client;
    try {
      client = socket_.acceptConnection();
    } catch (const Poco::Exception& error) {
      if (error.code() == EAGAIN || error.code() == EWOULDBLOCK || stopping_) return;
      // Out of files (EMFILE) or memory: the loop tries again at its next wake-up; say so once a second.
      if (Clock::now() - lastAcceptFailureLogged_ > std::chrono::seconds(1)) {
        lastAcceptFailureLogged_ = Clock::now();
        logger_.warning("Cannot accept a connection", {{"error", error.displayText()}});
      }
      return;
    }
    const std::size_t open = ++open_;
    try {
      if (open > static_cast<std::size_t>(settings_.maxConnections)) {
        admitOverCapacity(client);
      } else {
        loops_[nextLoop_++ % loops_.size()]->adopt(client);
      }
    } catch (const std::exception& error) {  // the client left at once, or no memory: drop it alone
      --open_;
      logger_.debug("Connection dropped on arrival", {{"error", error.what()}});
    }
  }
}

// As nginx does at its cap: the newcomer takes the place of the longest-idle keep-alive
// connection (as far as the loops' hints tell); it is refused only when none is idle.
void HttpServer::admitOverCapacity(const Poco::Net::StreamSocket& socket) {
  EventLoop* holder = nullptr;
  for (const auto& loop : loops_) {
    if (loop->spareIdleConnections() <= 0) continue;
    if (holder == nullptr || loop->oldestIdleSince() < holder->oldestIdleSince()) holder = loop.get();
  }
  if (holder != nullptr) return holder->admitInPlaceOfIdle(socket);
  refuseOverCapacity(socket);
}

void HttpServer::refuseOverCapacity(const Poco::Net::StreamSocket& socket) {
  if (open_ > static_cast<std::size_t>(settings_.maxConnections) + kRefusalHeadroom) {
    --open_;
    return;  // `socket` closes as it goes out of scope
  }
  loops_.front()->refuseOverCapacity(socket);
}

bool HttpServer::stop(std::chrono::milliseconds grace) {
  if (!running_) return true;
  running_ = false;
  const auto deadline = Clock::now() + grace;
  stopping_ = true;
  loops_.front()->stopListening();
  // On Linux, shutting a listening socket down refuses new connections at once. It is closed
  // with the server, never while the loop's thread may still be accepting on it.
  ::shutdown(socket_.impl()->sockfd(), SHUT_RD);
  for (auto& loop : loops_) loop->closeIdleConnections();
  while (open_.load() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (open_.load() == 0) return true;
  for (auto& loop : loops_) loop->abortAll();
  return false;
}

}  // namespace svc::host
