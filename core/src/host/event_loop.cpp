#include "event_loop.h"

#include <pthread.h>

#include <vector>

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

namespace svc::host {

namespace {

// How often deadlines are enforced: the resolution of every timeout the loop applies.
constexpr std::chrono::milliseconds kSweepPeriod{50};

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
    connection->open();
  } catch (...) {
    connections_.erase(socket.impl());
    throw;
  }
}

void EventLoop::adoptToRefuse(const Poco::Net::StreamSocket& socket, const std::string& answer) {
  auto connection = std::make_shared<Connection>(socket, environment_, *this);
  {
    std::lock_guard lock(mutex_);
    connections_.emplace(socket.impl(), connection);
  }
  connection->refuse(answer);
}

void EventLoop::watch(Connection& connection, int mode) { pollSet_.add(connection.socket(), mode); }

void EventLoop::unwatch(Connection& connection) {
  try {
    pollSet_.remove(connection.socket());
  } catch (const Poco::Exception&) {
    // it was not registered
  }
}

void EventLoop::handBack(Connection& connection, Connection::State state, int mode) {
  std::lock_guard lock(mutex_);
  connection.setState(state);
  pollSet_.add(connection.socket(), mode);
}

void EventLoop::forget(Connection& connection) {
  std::lock_guard lock(mutex_);
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
    const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(nextSweep - Clock::now());
    Poco::Net::PollSet::SocketModeMap ready;
    try {
      ready = pollSet_.poll(Poco::Timespan(std::max<std::int64_t>(wait.count(), 0)));
    } catch (const Poco::Exception&) {
      // EBADF for a socket closed while registered: nothing to do but poll again
    }
    for (const auto& [socket, mode] : ready) dispatch(socket);
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
  for (const auto& connection : owned) {
    guarded(*connection, [&] {
      if (!closeIdle || !connection->closeIfIdle()) connection->enforceDeadline(now);
    });
  }
}

}  // namespace svc::host
