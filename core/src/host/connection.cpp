#include "connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Timestamp.h>

#include "event_loop.h"
#include "problems.h"

namespace svc::host {

namespace {

using Poco::Net::PollSet;
constexpr std::size_t kReadChunk = 16384;
// A closing connection discards what the client still sends for this long at most, and stops
// as soon as the client has been quiet for kLingerQuiet (as nginx's lingering close does).
constexpr std::chrono::milliseconds kLingerTotal{2000};
constexpr std::chrono::milliseconds kLingerQuiet{200};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// HTTP dates change once a second: format each once per thread, not once per response.
const std::string& httpDate() {
  thread_local std::time_t formattedSecond = 0;
  thread_local std::string formatted;
  const std::time_t now = std::time(nullptr);
  if (now != formattedSecond) {
    formattedSecond = now;
    formatted = Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(now), Poco::DateTimeFormat::HTTP_FORMAT);
  }
  return formatted;
}

std::chrono::duration<double, std::milli> millis(Clock::duration duration) { return duration; }

// When the kernel received what recvmsg just read (SO_TIMESTAMPNS), on the steady clock: the
// time a request waited for this thread to be scheduled counts too. `now` if it does not say.
Clock::time_point kernelReceiveTime(msghdr& message, Clock::time_point now) {
  for (cmsghdr* control = CMSG_FIRSTHDR(&message); control != nullptr; control = CMSG_NXTHDR(&message, control)) {
    if (control->cmsg_level != SOL_SOCKET || control->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec received{};
    std::memcpy(&received, CMSG_DATA(control), sizeof received);
    timespec wall{};
    ::clock_gettime(CLOCK_REALTIME, &wall);
    const auto waited = std::chrono::seconds(wall.tv_sec - received.tv_sec) +
                        std::chrono::nanoseconds(wall.tv_nsec - received.tv_nsec);
    if (waited.count() < 0 || waited > std::chrono::seconds(60)) return now;  // the wall clock was set meanwhile
    return now - std::chrono::duration_cast<Clock::duration>(waited);
  }
  return now;
}

}  // namespace

/// An asynchronous handler's request and the connection waiting for its answer. The answer may
/// come while the handler still runs (on the thread that called it), or later from any thread:
/// whichever comes second goes on with the connection.
class ConnectionExchange final : public detail::Exchange {
 public:
  ConnectionExchange(std::shared_ptr<Connection> connection, const Dispatcher& dispatcher, Request request,
                     std::string path, std::size_t patternId)
      : connection_(std::move(connection)),
        dispatcher_(dispatcher),
        request_(std::move(request)),
        path_(std::move(path)),
        patternId_(patternId) {}

  const Request& request() const { return request_; }

  void complete(Response response) override { settle(std::move(response)); }
  void fail(std::exception_ptr error) override {
    settle(dispatcher_.answerFailure(std::move(error), request_.method(), path_));
  }
  // Dropped while the handler still runs, the reply may be unwinding from an error the handler
  // throws: that error is the answer, if it comes.
  void abandon() override {
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(mutex_);
      if (answered_ || early_) return;
      if (!handlerReturned_) {
        abandonedEarly_ = true;
        return;
      }
      answered_ = true;
      connection = std::move(connection_);
    }
    connection->finishAsync(dispatched(abandonedAnswer()));
  }

  /// The handler returned: the answer if it came meanwhile (the caller goes on with it).
  std::optional<Dispatcher::Dispatched> handlerReturned() {
    std::lock_guard lock(mutex_);
    handlerReturned_ = true;
    if (!early_ && !abandonedEarly_) return std::nullopt;
    answered_ = true;
    return dispatched(early_ ? std::move(*early_) : abandonedAnswer());
  }

 private:
  // While the handler runs, the answer is kept for it to take.
  void settle(Response response) {
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(mutex_);
      if (answered_ || early_) return;  // answered once already
      if (!handlerReturned_) {
        early_ = std::move(response);
        return;
      }
      answered_ = true;
      connection = std::move(connection_);
    }
    connection->finishAsync(dispatched(std::move(response)));
  }

  Response abandonedAnswer() const {
    return dispatcher_.answerFailure(std::make_exception_ptr(std::logic_error("the handler dropped its reply")),
                                     request_.method(), path_);
  }

  Dispatcher::Dispatched dispatched(Response response) const {
    return Dispatcher::Dispatched{.response = std::move(response), .path = path_, .patternId = patternId_};
  }

  std::shared_ptr<Connection> connection_;
  const Dispatcher& dispatcher_;
  Request request_;
  const std::string path_;
  const std::size_t patternId_;
  std::mutex mutex_;
  bool handlerReturned_ = false;
  bool answered_ = false;
  std::optional<Response> early_;
  bool abandonedEarly_ = false;
};

// The status line and header fields as POCO's HTTPServerResponse wrote them, then the body.
// RFC 9110: a 204 has no Content-Length; a HEAD answer has the length of the GET body, not it.
void appendResponse(std::string& out, const Response& response, std::string_view version, bool keepAlive,
                    bool headOnly) {
  const auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  out.append(version).append(" ").append(std::to_string(response.status)).append(" ");
  out.append(reasonPhrase(response.status)).append("\r\n");
  field("Date", httpDate());
  field("Connection", keepAlive ? "Keep-Alive" : "Close");
  if (!response.body.empty()) field("Content-Type", response.contentType);
  for (const Header& header : response.headers) field(header.name, header.value);
  if (response.status != 204) field("Content-Length", std::to_string(response.body.size()));
  out.append("\r\n");
  if (!headOnly && response.status != 204) out.append(response.body);
}

Connection::Connection(Poco::Net::StreamSocket socket, const ConnectionEnvironment& environment, EventLoop& loop)
    : socket_(std::move(socket)),
      shared_(environment),
      loop_(loop),
      framer_(FramingLimits{.maxHeadBytes = environment.settings.maxHeadBytes,
                            .maxBodyBytes = environment.settings.maxBodyBytes}),
      deadline_(Clock::now() + environment.settings.receiveTimeout) {
  socket_.setBlocking(false);
  socket_.setNoDelay(true);
  const int on = 1;
  ::setsockopt(socket_.impl()->sockfd(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}

void Connection::refuse(const std::string& answer) {
  output_ = answer;
  finishAnswer(false, true, false);
}

// --- reading -------------------------------------------------------------------------------

void Connection::onReadable() {
  if (state() == State::Lingering) {
    discardInput();
    return;
  }
  if (state() != State::Reading) return;
  receive();
  advance(false);
}

void Connection::receive() {
  const std::size_t limit = shared_.settings.maxHeadBytes + 2 * shared_.settings.maxBodyBytes + 4096;
  char buffer[kReadChunk];
  while (input_.size() < limit) {
    iovec bytes{.iov_base = buffer, .iov_len = sizeof buffer};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message{};
    message.msg_iov = &bytes;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t count = ::recvmsg(socket_.impl()->sockfd(), &message, 0);
    if (count > 0) {
      lastReceiveAt_ = Clock::now();
      if (input_.empty()) inputArrivedAt_ = kernelReceiveTime(message, lastReceiveAt_);
      input_.append(buffer, static_cast<std::size_t>(count));
      if (static_cast<std::size_t>(count) < sizeof buffer) return;
    } else if (count < 0 && errno == EINTR) {
      continue;
    } else {
      if (count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) inputEnded_ = true;
      return;
    }
  }
}

void Connection::discardInput() {
  char buffer[kReadChunk];
  while (true) {
    const ssize_t count = ::recv(socket_.impl()->sockfd(), buffer, sizeof buffer, 0);
    if (count > 0) {
      lastReceiveAt_ = Clock::now();
    } else if (count < 0 && errno == EINTR) {
      continue;
    } else {
      if (count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) close();
      return;
    }
  }
}

// --- framing and answering -----------------------------------------------------------------

void Connection::advance(bool offLoop) {
  while (true) {
    if (!requestStarted_) {
      if (!RequestFramer::started(input_)) {
        awaitRequest(offLoop);
        return;
      }
      requestStarted_ = true;
      leaveIdle();
      // The client waits from the moment its first bytes arrived, which may be before now.
      requestStartedAt_ = std::min(inputArrivedAt_, Clock::now());
      requestDeadline_ = Clock::now() + shared_.settings.requestTimeout;
    }
    switch (framer_.frame(input_, inputEnded_)) {
      case RequestFramer::Progress::NeedMore:
        if (framer_.takeContinueRequest()) output_.append(kContinue);
        if (!flush()) return close();
        return waitFor(State::Reading, PollSet::POLL_READ, offLoop);
      case RequestFramer::Progress::Rejected:
        return reject(framer_.rejection(), offLoop);
      case RequestFramer::Progress::Ready:
        break;
    }
    Dispatcher::Routing routing = shared_.dispatcher.route(framer_.request(), requestStartedAt_);
    context_ = routing.context;
    if (routing.async()) return startAsync(std::move(routing), offLoop);
    if (routing.mayBlock() && !shared_.workers.onOwnThread()) return handToWorker(std::move(routing));
    if (!respond(shared_.dispatcher.dispatch(framer_.request(), std::move(routing), framer_.takeBody()), offLoop)) {
      return;
    }
  }
}

void Connection::awaitRequest(bool offLoop) {
  if (inputEnded_ || shared_.stopping.load()) return close();
  input_.clear();  // blank lines between requests, if anything
  deadline_ = Clock::now() + (served_ == 0 ? shared_.settings.receiveTimeout : shared_.settings.keepAliveTimeout);
  if (served_ > 0) enterIdle();
  waitFor(State::Reading, PollSet::POLL_READ, offLoop);
}

// Before the hand-back to the loop, whose scan for the longest-idle connection reads these fields.
void Connection::enterIdle() {
  if (idleKeepAlive_) return;  // blank lines between requests: still idle since the answer
  idleKeepAlive_ = true;
  loop_.idleConnectionAdded(answeredAt_);
}

void Connection::leaveIdle() {
  if (!idleKeepAlive_) return;
  idleKeepAlive_ = false;
  loop_.idleConnectionRemoved();
}

// The socket stays in the poll set (out and back in would cost two system calls a request): see
// EventLoop::dispatch for what the loop does when it turns ready meanwhile.
void Connection::handToWorker(Dispatcher::Routing routing) {
  state_ = State::Processing;
  const std::string path = routing.path;
  const std::size_t patternId = routing.lookup.patternId;
  auto self = shared_from_this();
  const bool queued = shared_.workers.offer([self, routing = std::move(routing)]() mutable {
    self->runOnWorker(std::move(routing));
  });
  if (queued) return;
  Response busy = Response::problem(Problem{
      .status = 503, .detail = "The server is busy: every worker is taken and its queue is full; retry shortly"});
  busy.withHeader("Retry-After", "1");
  // Not owned by the loop any more: go on as the owner, handing it back when it waits.
  if (respond(Dispatcher::Dispatched{.response = std::move(busy), .path = path, .patternId = patternId}, true)) {
    advance(true);
  }
}

void Connection::runOnWorker(Dispatcher::Routing routing) {
  try {
    const bool carriesOn =
        respond(shared_.dispatcher.dispatch(framer_.request(), std::move(routing), framer_.takeBody()), true);
    if (carriesOn) advance(true);
  } catch (const std::exception& error) {
    shared_.logger.error("Connection failed", {{"error", error.what()}});
    abort();
    close();
  }
}

// The handler runs here and returns at once; its answer goes on with the connection from
// whichever thread gives it (ConnectionExchange).
void Connection::startAsync(Dispatcher::Routing routing, bool offLoop) {
  state_ = State::Processing;
  std::string path = routing.path;
  const std::size_t patternId = routing.lookup.patternId;
  Request request = shared_.dispatcher.routedRequest(framer_.request(), routing, framer_.takeBody());
  auto exchange = std::make_shared<ConnectionExchange>(shared_from_this(), shared_.dispatcher, std::move(request),
                                                       std::move(path), patternId);
  shared_.dispatcher.dispatchAsync(exchange->request(), routing, exchange);
  if (auto answer = exchange->handlerReturned()) {
    if (respond(std::move(*answer), offLoop)) advance(offLoop);
  }
}

void Connection::finishAsync(Dispatcher::Dispatched result) {
  try {
    if (respond(std::move(result), true)) advance(true);
  } catch (const std::exception& error) {
    shared_.logger.error("Connection failed", {{"error", error.what()}});
    abort();
    close();
  }
}

bool Connection::respond(Dispatcher::Dispatched result, bool offLoop) {
  const Poco::Net::HTTPRequest& request = framer_.request();
  ++served_;
  const int limit = shared_.settings.maxKeepAliveRequests;
  // The connection carries no request after a chunked one: see RequestFramer::frameChunkedBody.
  const bool keepAlive = shared_.settings.keepAlive && request.getKeepAlive() && (limit == 0 || served_ < limit) &&
                         !framer_.chunked() && !shared_.stopping.load();
  if (context_) result.response.withHeader("X-Request-Id", context_->requestId);
  // Counted as it is handed to the socket, from the moment the request's first byte arrived
  // (the kernel's receive time): what the client waits for. A client that has its answer finds
  // it counted in /metrics.
  answeredAt_ = Clock::now();
  const auto elapsed = answeredAt_ - requestStartedAt_;
  shared_.metrics.record(request.getMethod(), result.patternId, result.response.status, elapsed);
  appendResponse(output_, result.response, request.getVersion(), keepAlive, request.getMethod() == "HEAD");
  {
    const RequestScope scope(std::move(context_));
    shared_.logger.log(shared_.dispatcher.handledLevel(result.patternId, result.response.status), "Request handled",
                       {{"method", request.getMethod()},
                        {"path", result.path},
                        {"status", result.response.status},
                        {"duration_ms", millis(elapsed).count()}});
  }
  input_.erase(0, framer_.consumed());
  if (!input_.empty()) inputArrivedAt_ = lastReceiveAt_;  // the next request came with the last bytes read, or before
  framer_.reset();
  requestStarted_ = false;
  return finishAnswer(keepAlive, false, offLoop);
}

void Connection::reject(const Rejection& rejection, bool offLoop) {
  shared_.logger.info("Request rejected", {{"status", rejection.status}, {"reason", rejection.detail}});
  shared_.metrics.record(rejection.method, HttpMetrics::kUnmatched, rejection.status,
                         Clock::now() - requestStartedAt_);
  appendResponse(output_, Response::problem(Problem{.status = rejection.status, .detail = rejection.detail}),
                 Poco::Net::HTTPMessage::HTTP_1_1, false, false);
  requestStarted_ = false;
  finishAnswer(false, true, offLoop);
}

// --- sending and closing -------------------------------------------------------------------

bool Connection::flush() {
  while (outputSent_ < output_.size()) {
    const ssize_t count = ::send(socket_.impl()->sockfd(), output_.data() + outputSent_, output_.size() - outputSent_,
                                 MSG_NOSIGNAL);
    if (count > 0) {
      outputSent_ += static_cast<std::size_t>(count);
      deadline_ = Clock::now() + shared_.settings.receiveTimeout;  // the client reads: give it time for the rest
    } else if (count < 0 && errno == EINTR) {
      continue;
    } else {
      return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }
  output_.clear();
  outputSent_ = 0;
  return true;
}

bool Connection::finishAnswer(bool keepAlive, bool linger, bool offLoop) {
  if (!flush()) {
    close();
    return false;
  }
  if (!output_.empty()) {  // the client reads slowly: the loop sends the rest
    deadline_ = Clock::now() + shared_.settings.receiveTimeout;
    keepAliveAfterOutput_ = keepAlive;
    lingerAfterOutput_ = linger;
    waitFor(State::Writing, PollSet::POLL_WRITE, offLoop);
    return false;
  }
  if (keepAlive) return true;
  if (linger) startLingering(offLoop);
  else close();
  return false;
}

void Connection::onWritable() {
  if (state() != State::Writing) return;
  if (!finishAnswer(keepAliveAfterOutput_, lingerAfterOutput_, false)) return;
  // Before the next request, which may go to a worker: registered for room to send, the socket
  // would wake the loop at once.
  loop_.watch(*this, PollSet::POLL_READ);
  advance(false);
}

void Connection::startLingering(bool offLoop) {
  try {
    socket_.shutdownSend();
  } catch (const Poco::Exception&) {
    return close();  // the client is gone
  }
  input_.clear();
  lastReceiveAt_ = Clock::now();
  lingerUntil_ = lastReceiveAt_ + kLingerTotal;
  waitFor(State::Lingering, PollSet::POLL_READ, offLoop);
}

void Connection::enforceDeadline(Clock::time_point now) {
  switch (state()) {
    case State::Reading:
      if (!requestStarted_) {
        if (now >= deadline_) close();  // no request came: nothing to answer
      } else if (now >= requestDeadline_ || now >= lastReceiveAt_ + shared_.settings.receiveTimeout) {
        reject(Rejection{.status = 408, .detail = "The request did not arrive in time", .method = framer_.method()},
               false);
      }
      return;
    case State::Writing:
      if (now >= deadline_) close();  // the client stopped reading
      return;
    case State::Lingering:
      if (now >= lingerUntil_ || now >= lastReceiveAt_ + kLingerQuiet) close();
      return;
    case State::Processing:
    case State::Closed:
      return;
  }
}

bool Connection::closeIfIdle() {
  if (state() != State::Reading || requestStarted_) return false;
  close();
  return true;
}

void Connection::abort() {
  try {
    socket_.shutdown();
  } catch (const Poco::Exception&) {
    // already closed by the client
  }
}

void Connection::close() {
  if (state() == State::Closed) return;
  leaveIdle();
  loop_.forget(*this);
  state_ = State::Closed;
  try {
    socket_.close();
  } catch (const Poco::Exception&) {
  }
}

// A thread other than the loop's hands the connection back through the loop, under its lock,
// as the last thing it does with it: from then on the loop's thread may be using it.
void Connection::waitFor(State state, int mode, bool offLoop) {
  if (offLoop) {
    loop_.handBack(*this, state, mode);
    return;
  }
  state_ = state;
  loop_.watch(*this, mode);
}

}  // namespace svc::host
