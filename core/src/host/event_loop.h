#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include "connection.h"

namespace svc::host {

/// One thread waiting on many connections at once (POCO's PollSet: epoll on Linux). It reads
/// what arrives, lets each connection frame and answer its requests, sends what fits, and every
/// sweep period enforces the connections' deadlines. A connection stays in the poll set while a
/// worker runs its handler, and is handed back when it is done; only if its socket turns ready
/// meanwhile (the client sends more, or goes) does the loop take it out until then. At the
/// server's connection cap, a newcomer handed to it takes the place of its longest-idle keep-alive
/// connection, which it finds by a scan of its connections (only then, never per request).
class EventLoop {
 public:
  EventLoop(const ConnectionEnvironment& environment, std::atomic<std::size_t>& openConnections);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void start();
  /// Ends the thread and closes the connections left.
  void stop();

  /// Also waits on `listener`, calling `onAcceptable` on this loop's thread when it is readable.
  void listen(const Poco::Net::ServerSocket& listener, std::function<void()> onAcceptable);
  /// Stops waiting on the listener (from any thread).
  void stopListening();
  /// Serves a connection just accepted (from any thread).
  void adopt(const Poco::Net::StreamSocket& socket);
  /// Answers a connection over `max_connections` with 503 and a lingering close (from any thread).
  void refuseOverCapacity(const Poco::Net::StreamSocket& socket);
  /// Idle keep-alive connections of this loop that no newcomer has been promised yet (from any
  /// thread: a hint, which the loop's thread checks when it acts on it).
  std::int64_t spareIdleConnections() const;
  /// Since when this loop's longest-idle connection has been idle, as of the last sweep or
  /// eviction (from any thread: a hint); time_point::max() when unknown.
  Clock::time_point oldestIdleSince() const;
  /// From any thread: on the loop's thread, closes this loop's longest-idle keep-alive connection
  /// and serves `newcomer` in its place; refuses `newcomer` when none is idle any more.
  void admitInPlaceOfIdle(const Poco::Net::StreamSocket& newcomer);
  /// From the connection's owner: a keep-alive connection of this loop became idle at `since`.
  void idleConnectionAdded(Clock::time_point since);
  /// From the connection's owner: a connection counted idle got a request or closed.
  void idleConnectionRemoved() { idle_.fetch_sub(1, std::memory_order_relaxed); }

  /// From the connection's owner: its socket waits for `mode` (PollSet modes).
  void watch(Connection& connection, int mode);
  /// From a worker: the loop owns the connection again, in `state`, waiting for `mode`.
  void handBack(Connection& connection, Connection::State state, int mode);
  /// The connection closes: the loop forgets it and its socket (from its owner's thread, before
  /// closing the socket).
  void forget(Connection& connection);

  /// From any thread: closes idle connections soon and lets no connection take another request.
  void closeIdleConnections();
  /// From any thread: shuts down the socket of every connection still open.
  void abortAll();

 private:
  void run();
  void dispatch(const Poco::Net::Socket& socket);
  /// Under mutex_: registers the connection's socket for `mode`, 0 taking it out.
  void registerFor(Connection& connection, int mode);
  void sweep();
  void admitNewcomers();
  std::vector<std::shared_ptr<Connection>> takeLongestIdle(std::size_t count);
  void publishOldestIdle(std::optional<Clock::time_point> since);
  void wake();
  template <class Work>
  void guarded(Connection& connection, Work&& work);

  const ConnectionEnvironment& environment_;
  std::atomic<std::size_t>& open_;
  Poco::Net::PollSet pollSet_;
  mutable std::mutex mutex_;  ///< guards connections_, every hand-back and the registrations
  std::unordered_map<const Poco::Net::SocketImpl*, std::shared_ptr<Connection>> connections_;
  Poco::Net::DatagramSocket waker_;  ///< also keeps the poll set from being empty (POCO's poll returns at once then)
  Poco::Net::ServerSocket listener_;
  std::function<void()> onAcceptable_;
  std::atomic<bool> running_{false};
  std::atomic<bool> closingIdle_{false};
  std::vector<Poco::Net::StreamSocket> newcomers_;  ///< guarded by mutex_: each waits for an idle connection's place
  std::atomic<std::int64_t> promised_{0};           ///< newcomers queued and not yet admitted or refused
  alignas(64) std::atomic<std::int64_t> idle_{0};  ///< its own cache line: counted on every keep-alive request
  std::atomic<Clock::rep> oldestIdleSince_{Clock::time_point::max().time_since_epoch().count()};
  std::thread thread_;
};

}  // namespace svc::host
