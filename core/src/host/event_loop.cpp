#include "event_loop.h"

#include <pthread.h>

#include <algorithm>
#include <vector>

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

namespace svc::host {

namespace {

// How often deadlines are enforced: the resolution of every timeout the loop applies.
constexpr std::chrono::milliseconds kSweepPeriod{50};

// Made for each refusal: its Date field is the current one.
std::string overCapacityAnswer(int maxConnections) {
  const std::string detail =
      "The server holds its limit of " + std::to_string(maxConnections) + " open connections; retry shortly";
  std::string answer;
  appendResponse(answer, Response::problem(Problem{.status = 503, .detail = detail}).withHeader("Retry-After", "1"),
                 Poco::Net::HTTPMessage::HTTP_1_1, false, false);
  return answer;
}

}  // namespace

EventLoop::EventLoop(const ConnectionEnvironment& environment, std::atomic<std::size_t>& openConnections)
    : environment_(environment), open_(openConnections), waker_(Poco::Net::SocketAddress("127.0.0.1", 0), false) {
  waker_.setBlocking(false);
  pollSet_.add(waker_, Poco::Net::PollSet::POLL_READ);
}

EventLoop::~EventLoop() { stop(); }

void EventLoop::start() {
  running_ = true;
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "http-loop");  // as top -H and perf show it
    run();
  });
}

void EventLoop::stop() {
  if (!thread_.joinable()) return;
  running_ = false;
  wake();
  thread_.join();
  std::vector<std::shared_ptr<Connection>> left;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [impl, connection] : connections_) left.push_back(connection);
  }
  for (const auto& connection : left) connection->abort();
  std::lock_guard lock(mutex_);
  open_ -= connections_.size();
  connections_.clear();
}

void EventLoop::listen(const Poco::Net::ServerSocket& listener, std::function<void()> onAcceptable) {
  listener_ = listener;
  onAcceptable_ = std::move(onAcceptable);
  pollSet_.add(listener_, Poco::Net::PollSet::POLL_READ);
}

void EventLoop::stopListening() {
  try {
    pollSet_.remove(listener_);
  } catch (const Poco::Exception&) {
    // not listening
  }
}

// Registered and watched under the lock: the loop's sweep and events see it only once it is whole.
void EventLoop::adopt(const Poco::Net::StreamSocket& socket) {
  auto connection = std::make_shared<Connection>(socket, environment_, *this);
  std::lock_guard lock(mutex_);
  connections_.emplace(socket.impl(), connection);
  try {
    registerFor(*connection, Poco::Net::PollSet::POLL_READ);  // it waits for its first request
  } catch (...) {
    connections_.erase(socket.impl());
    throw;
  }
}

void EventLoop::refuseOverCapacity(const Poco::Net::StreamSocket& socket) {
  auto connection = std::make_shared<Connection>(socket, environment_, *this);
  {
    std::lock_guard lock(mutex_);
    connections_.emplace(socket.impl(), connection);
  }
  connection->refuse(overCapacityAnswer(environment_.settings.maxConnections));
}

std::int64_t EventLoop::spareIdleConnections() const {
  return idle_.load(std::memory_order_relaxed) - promised_.load(std::memory_order_relaxed);
}

Clock::time_point EventLoop::oldestIdleSince() const {
  return Clock::time_point(Clock::duration(oldestIdleSince_.load(std::memory_order_relaxed)));
}

// The first idle connection is the oldest; the sweep and evictions keep the hint current after.
void EventLoop::idleConnectionAdded(Clock::time_point since) {
  if (idle_.fetch_add(1, std::memory_order_relaxed) == 0) publishOldestIdle(since);
}

void EventLoop::publishOldestIdle(std::optional<Clock::time_point> since) {
  oldestIdleSince_.store(since.value_or(Clock::time_point::max()).time_since_epoch().count(),
                         std::memory_order_relaxed);
}

void EventLoop::admitInPlaceOfIdle(const Poco::Net::StreamSocket& newcomer) {
  {
    std::lock_guard lock(mutex_);
    newcomers_.push_back(newcomer);
    ++promised_;
  }
  wake();
}

// Its owner is the only thread that changes the registration of a connection it owns (the loop
// takes out only one a worker owns), so it may read it without the lock.
void EventLoop::watch(Connection& connection, int mode) {
  if (connection.watchedMode_ == mode) return;
  std::lock_guard lock(mutex_);
  registerFor(connection, mode);
}

// Registered first: should that fail, the worker still owns the connection, to close it.
void EventLoop::handBack(Connection& connection, Connection::State state, int mode) {
  std::lock_guard lock(mutex_);
  registerFor(connection, mode);
  connection.setState(state);
}

void EventLoop::registerFor(Connection& connection, int mode) {
  int& registered = connection.watchedMode_;
  if (registered == mode) return;
  if (mode == 0) {
    try {
      pollSet_.remove(connection.socket());
    } catch (const Poco::Exception&) {
      // closed already: the kernel dropped it from the poll set
    }
  } else if (registered == 0) {
    pollSet_.add(connection.socket(), mode);
  } else {
    pollSet_.update(connection.socket(), mode);
  }
  registered = mode;
}

void EventLoop::forget(Connection& connection) {
  std::lock_guard lock(mutex_);
  registerFor(connection, 0);
  if (connections_.erase(connection.socket().impl()) > 0) --open_;
}

void EventLoop::closeIdleConnections() {
  closingIdle_ = true;
  wake();
}

void EventLoop::abortAll() {
  std::lock_guard lock(mutex_);
  for (const auto& [impl, connection] : connections_) connection->abort();
}

void EventLoop::wake() {
  try {
    const char byte = 0;
    waker_.sendTo(&byte, 1, waker_.address());
  } catch (const Poco::Exception&) {
    // the loop wakes at its next sweep anyway
  }
}

void EventLoop::run() {
  auto nextSweep = Clock::now() + kSweepPeriod;
  while (running_) {
    // Whole milliseconds, rounded up: POCO's epoll_wait drops the rest, and a wait cut to 0 ms
    // polled without sleeping through the last millisecond before every sweep.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(nextSweep - Clock::now());
    Poco::Net::PollSet::SocketModeMap ready;
    try {
      ready = pollSet_.poll(Poco::Timespan(std::max<std::int64_t>(wait.count(), 0) * 1000));
    } catch (const Poco::Exception&) {
      // EBADF for a socket closed while registered: nothing to do but poll again
    }
    for (const auto& [socket, mode] : ready) dispatch(socket);
    if (promised_.load(std::memory_order_relaxed) > 0) admitNewcomers();
    if (Clock::now() >= nextSweep) {
      sweep();
      nextSweep = Clock::now() + kSweepPeriod;
    }
  }
}

// Whatever goes wrong with one connection (no memory, a failing system call) ends it alone.
template <class Work>
void EventLoop::guarded(Connection& connection, Work&& work) {
  try {
    work();
  } catch (const std::exception& error) {
    environment_.logger.error("Connection failed", {{"error", error.what()}});
    connection.abort();
    connection.close();
  }
}

void EventLoop::dispatch(const Poco::Net::Socket& socket) {
  if (socket.impl() == waker_.impl()) {
    char discard[64];
    try {
      while (waker_.receiveBytes(discard, sizeof discard) > 0) {
      }
    } catch (const Poco::Exception&) {
    }
    return;
  }
  if (socket.impl() == listener_.impl()) {
    onAcceptable_();
    return;
  }
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mutex_);
    const auto found = connections_.find(socket.impl());
    if (found == connections_.end()) return;
    connection = found->second;
    // A worker owns it: the client sent more (a pipelined request) or went. Out of the poll set,
    // or the loop would spin on it, until the worker hands it back and registers it again.
    if (connection->state() == Connection::State::Processing) return registerFor(*connection, 0);
  }
  guarded(*connection, [&] {
    if (connection->state() == Connection::State::Writing) {  // an error too: sending then fails
      connection->onWritable();
    } else {
      connection->onReadable();
    }
  });
}

void EventLoop::sweep() {
  std::vector<std::shared_ptr<Connection>> owned;
  {
    std::lock_guard lock(mutex_);
    owned.reserve(connections_.size());
    for (const auto& [impl, connection] : connections_) {
      if (connection->state() != Connection::State::Processing) owned.push_back(connection);
    }
  }
  const bool closeIdle = closingIdle_.load();
  const auto now = Clock::now();
  std::optional<Clock::time_point> oldestIdle;
  for (const auto& connection : owned) {
    guarded(*connection, [&] {
      if (!closeIdle || !connection->closeIfIdle()) connection->enforceDeadline(now);
    });
    if (connection->idleKeepAlive() && (!oldestIdle || connection->idleSince() < *oldestIdle)) {
      oldestIdle = connection->idleSince();
    }
  }
  publishOldestIdle(oldestIdle);
}

// Each newcomer takes the place of one idle connection, oldest first; one scan of the map serves
// every newcomer queued since the last. A connection that got a request meanwhile is no longer
// idle, and a newcomer left without a place is refused.
void EventLoop::admitNewcomers() {
  std::vector<Poco::Net::StreamSocket> newcomers;
  {
    std::lock_guard lock(mutex_);
    newcomers.swap(newcomers_);
  }
  const std::vector<std::shared_ptr<Connection>> evicted = takeLongestIdle(newcomers.size());
  for (std::size_t i = 0; i < newcomers.size(); ++i) {
    try {
      if (i < evicted.size()) {
        evicted[i]->close();
        environment_.metrics.recordEviction();
        adopt(newcomers[i]);
      } else {
        refuseOverCapacity(newcomers[i]);
      }
    } catch (const std::exception& error) {  // the client left at once, or no memory: drop it alone
      --open_;
      environment_.logger.debug("Connection dropped on arrival", {{"error", error.what()}});
    }
    --promised_;  // after the close, so that the spare count never overstates
  }
}

// The `count` longest-idle connections, oldest first; the one idle longest after them is published.
std::vector<std::shared_ptr<Connection>> EventLoop::takeLongestIdle(std::size_t count) {
  std::vector<std::shared_ptr<Connection>> idle;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [impl, connection] : connections_) {
      if (connection->idleKeepAlive()) idle.push_back(connection);
    }
  }
  const auto sorted = static_cast<std::ptrdiff_t>(std::min(count + 1, idle.size()));
  std::partial_sort(idle.begin(), idle.begin() + sorted, idle.end(),
                    [](const auto& a, const auto& b) { return a->idleSince() < b->idleSince(); });
  publishOldestIdle(idle.size() > count ? std::optional(idle[count]->idleSince()) : std::nullopt);
  idle.resize(std::min(count, idle.size()));
  return idle;
}

}  // namespace svc::host
