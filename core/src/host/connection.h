#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <Poco/Net/StreamSocket.h>

#include "dispatcher.h"
#include "http_metrics.h"
#include "request_framing.h"
#include "settings.h"
#include "worker_pool.h"

namespace svc::host {

class EventLoop;
using Clock = std::chrono::steady_clock;

/// Appends `response` as HTTP/1.x bytes: the status line, Date, Connection, Content-Type, the
/// response's own fields and Content-Length, then the body (not for HEAD).
void appendResponse(std::string& out, const Response& response, std::string_view version, bool keepAlive,
                    bool headOnly);

/// What every connection of one server shares.
struct ConnectionEnvironment {
  const Dispatcher& dispatcher;
  HttpMetrics& metrics;
  const Logger& logger;
  const ServerSettings& settings;
  WorkerPool& workers;
  const std::atomic<bool>& stopping;  ///< the server stops: no connection carries another request
};

/// One client connection: its received bytes, the request being framed, the answer being sent.
/// It costs a socket and its buffers, no thread. Its event loop owns it while it waits for
/// bytes or for room to send them; a worker owns it while a handler that may block runs. One
/// owner at a time, handed over under the loop's lock, so its fields need no lock of their own.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State {
    Reading,     ///< waiting for (the rest of) a request
    Processing,  ///< a worker runs its handler
    Writing,     ///< waiting for room to send the rest of an answer
    Lingering,   ///< answered and closing: reading and discarding what the client still sends
    Closed,
  };

  Connection(Poco::Net::StreamSocket socket, const ConnectionEnvironment& environment, EventLoop& loop);

  const Poco::Net::StreamSocket& socket() const { return socket_; }
  State state() const { return state_.load(std::memory_order_acquire); }

  /// Start: send `answer` (a complete response) and close, reading nothing.
  void refuse(const std::string& answer);
  /// Set by the loop under its lock when a worker hands the connection back.
  void setState(State state) { state_.store(state, std::memory_order_release); }
  /// The loop saw the socket readable (or closed, or failed).
  void onReadable();
  /// The loop saw room to send.
  void onWritable();
  /// Applies the deadline of the current state: a request that does not arrive in time gets 408,
  /// a client that sends nothing or reads nothing is disconnected.
  void enforceDeadline(Clock::time_point now);
  /// Closes the connection if it waits for a request that has not begun; true if it did.
  bool closeIfIdle();
  /// A keep-alive connection between requests: it has served one and nothing of the next has
  /// arrived. For the loop's thread (a worker owns the connection while it is Processing).
  bool idleKeepAlive() const { return state() == State::Reading && idleKeepAlive_; }
  /// When the connection became idle (valid while idleKeepAlive()): when its last answer was
  /// ready, before the client could have it, so that connections answered in turn are idle in turn.
  Clock::time_point idleSince() const { return answeredAt_; }
  /// Shuts the socket down whatever it is doing (a handler still running finds it closed).
  void abort();
  /// Closes the connection now (from its owner's thread): the loop forgets it.
  void close();
  /// The answer of an asynchronous handler, from the thread that finished it (which now owns
  /// the connection).
  void finishAsync(Dispatcher::Dispatched result);

 private:
  void receive();
  void discardInput();
  /// Frames and answers the requests received, until one needs more bytes, a worker, a reply
  /// to come, or the connection ends. `offLoop`: the calling thread owns the connection, not its
  /// loop (a worker, or whoever finished an asynchronous handler).
  void advance(bool offLoop);
  void awaitRequest(bool offLoop);
  void enterIdle();
  void leaveIdle();
  void handToWorker(Dispatcher::Routing routing);
  void runOnWorker(Dispatcher::Routing routing);
  void startAsync(Dispatcher::Routing routing, bool offLoop);
  /// Queues the answer and sends what fits; true when the connection carries on with the next
  /// request now, false when it ends or waits for room to send.
  bool respond(Dispatcher::Dispatched result, bool offLoop);
  void reject(const Rejection& rejection, bool offLoop);
  /// Sends what is queued; false when the client is gone. What does not fit waits for onWritable.
  bool flush();
  bool finishAnswer(bool keepAlive, bool linger, bool offLoop);
  void startLingering(bool offLoop);
  void waitFor(State state, int mode, bool offLoop);

  Poco::Net::StreamSocket socket_;
  const ConnectionEnvironment& shared_;
  EventLoop& loop_;
  std::atomic<State> state_{State::Reading};
  RequestFramer framer_;
  std::string input_;
  bool inputEnded_ = false;  ///< the client sent its last byte (or the connection failed)
  std::string output_;
  std::size_t outputSent_ = 0;
  bool keepAliveAfterOutput_ = true;
  bool lingerAfterOutput_ = false;
  int served_ = 0;
  bool requestStarted_ = false;
  bool idleKeepAlive_ = false;  ///< counted in the loop's idle connections
  Clock::time_point answeredAt_;
  Clock::time_point requestStartedAt_;
  Clock::time_point inputArrivedAt_;  ///< when the kernel received the oldest bytes of input_
  std::shared_ptr<const RequestContext> context_;  ///< of the request being served
  Clock::time_point deadline_;
  Clock::time_point requestDeadline_;
  Clock::time_point lingerUntil_;
  Clock::time_point lastReceiveAt_;
  /// The PollSet mode the socket is registered for (0: none): changed only under the loop's
  /// lock, whoever owns the connection; read without it only by the connection's owner.
  int watchedMode_ = 0;

  friend class EventLoop;
};

}  // namespace svc::host
