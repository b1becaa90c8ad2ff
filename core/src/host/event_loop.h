#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include "connection.h"

namespace svc::host {

/// One thread waiting on many connections at once (POCO's PollSet: epoll on Linux). It reads
/// what arrives, lets each connection frame and answer its requests, sends what fits, and every
/// sweep period enforces the connections' deadlines. A connection whose handler may block is
/// taken out of the poll set while a worker runs it, and handed back when it is done.
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
  /// Serves a connection that only gets `answer` and a lingering close (from any thread).
  void adoptToRefuse(const Poco::Net::StreamSocket& socket, const std::string& answer);

  /// From the loop's thread: (re)registers the connection's socket for `mode` (PollSet modes).
  void watch(Connection& connection, int mode);
  /// From the loop's thread: no more events for the connection (a worker is to own it).
  void unwatch(Connection& connection);
  /// From a worker: the loop owns the connection again, in `state`, waiting for `mode`.
  void handBack(Connection& connection, Connection::State state, int mode);
  /// The connection closes: the loop forgets it (from its owner's thread, before closing the socket).
  void forget(Connection& connection);

  /// From any thread: closes idle connections soon and lets no connection take another request.
  void closeIdleConnections();
  /// From any thread: shuts down the socket of every connection still open.
  void abortAll();

 private:
  void run();
  void dispatch(const Poco::Net::Socket& socket);
  void sweep();
  void wake();
  template <class Work>
  void guarded(Connection& connection, Work&& work);

  const ConnectionEnvironment& environment_;
  std::atomic<std::size_t>& open_;
  Poco::Net::PollSet pollSet_;
  mutable std::mutex mutex_;  ///< guards connections_ and every hand-back
  std::unordered_map<const Poco::Net::SocketImpl*, std::shared_ptr<Connection>> connections_;
  Poco::Net::DatagramSocket waker_;  ///< also keeps the poll set from being empty (POCO's poll returns at once then)
  Poco::Net::ServerSocket listener_;
  std::function<void()> onAcceptable_;
  std::atomic<bool> running_{false};
  std::atomic<bool> closingIdle_{false};
  std::thread thread_;
};

}  // namespace svc::host
