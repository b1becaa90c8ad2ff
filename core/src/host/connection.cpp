#include "connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <ctime>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Timestamp.h>

#include "event_loop.h"

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

}  // namespace

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
}

// Called by the accepting thread, which may not be this connection's loop: once registered,
// the connection is the loop's.
void Connection::open() {
  watchedMode_ = PollSet::POLL_READ;
  loop_.watch(*this, PollSet::POLL_READ);
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
    const ssize_t count = ::recv(socket_.impl()->sockfd(), buffer, sizeof buffer, 0);
    if (count > 0) {
      input_.append(buffer, static_cast<std::size_t>(count));
      lastReceiveAt_ = Clock::now();
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

void Connection::advance(bool onWorker) {
  while (true) {
    if (!requestStarted_) {
      if (!RequestFramer::started(input_)) {
        awaitRequest(onWorker);
        return;
      }
      requestStarted_ = true;
      leaveIdle();
      requestStartedAt_ = Clock::now();
      requestDeadline_ = requestStartedAt_ + shared_.settings.requestTimeout;
    }
    switch (framer_.frame(input_, inputEnded_)) {
      case RequestFramer::Progress::NeedMore:
        if (framer_.takeContinueRequest()) output_.append(kContinue);
        if (!flush()) return close();
        return waitFor(State::Reading, PollSet::POLL_READ, onWorker);
      case RequestFramer::Progress::Rejected:
        return reject(framer_.rejection(), onWorker);
      case RequestFramer::Progress::Ready:
        break;
    }
    Dispatcher::Routing routing = shared_.dispatcher.route(framer_.request());
    if (routing.mayBlock() && !onWorker) return handToWorker(std::move(routing));
    if (!respond(shared_.dispatcher.dispatch(framer_.request(), std::move(routing), framer_.takeBody()), onWorker)) {
      return;
    }
  }
}

void Connection::awaitRequest(bool onWorker) {
  if (inputEnded_ || shared_.stopping.load()) return close();
  input_.clear();  // blank lines between requests, if anything
  deadline_ = Clock::now() + (served_ == 0 ? shared_.settings.receiveTimeout : shared_.settings.keepAliveTimeout);
  if (served_ > 0) enterIdle();
  waitFor(State::Reading, PollSet::POLL_READ, onWorker);
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

void Connection::handToWorker(Dispatcher::Routing routing) {
  unwatch();
  state_ = State::Processing;
  const std::string path = routing.path;
  const std::size_t patternId = routing.lookup.patternId;
  auto self = shared_from_this();
  const bool queued = shared_.workers.offer([self, routing = std::move(routing)]() mutable {
    self->runOnWorker(std::move(routing));
  });
  if (queued) return;
  state_ = State::Reading;
  Response busy = Response::problem(Problem{
      .status = 503, .detail = "The server is busy: every worker is taken and its queue is full; retry shortly"});
  busy.withHeader("Retry-After", "1");
  if (respond(Dispatcher::Dispatched{.response = std::move(busy), .path = path, .patternId = patternId}, false)) {
    advance(false);
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

bool Connection::respond(Dispatcher::Dispatched result, bool onWorker) {
  const Poco::Net::HTTPRequest& request = framer_.request();
  ++served_;
  const int limit = shared_.settings.maxKeepAliveRequests;
  // The connection carries no request after a chunked one: see RequestFramer::frameChunkedBody.
  const bool keepAlive = shared_.settings.keepAlive && request.getKeepAlive() && (limit == 0 || served_ < limit) &&
                         !framer_.chunked() && !shared_.stopping.load();
  // Counted before sending: a client that has its answer finds it counted in /metrics.
  answeredAt_ = Clock::now();
  const auto elapsed = answeredAt_ - requestStartedAt_;
  shared_.metrics.record(request.getMethod(), result.patternId, result.response.status, elapsed);
  appendResponse(output_, result.response, request.getVersion(), keepAlive, request.getMethod() == "HEAD");
  shared_.logger.info("Request handled", {{"method", request.getMethod()},
                                          {"path", result.path},
                                          {"status", result.response.status},
                                          {"duration_ms", millis(elapsed).count()}});
  input_.erase(0, framer_.consumed());
  framer_.reset();
  requestStarted_ = false;
  return finishAnswer(keepAlive, false, onWorker);
}

void Connection::reject(const Rejection& rejection, bool onWorker) {
  shared_.logger.info("Request rejected", {{"status", rejection.status}, {"reason", rejection.detail}});
  shared_.metrics.record(rejection.method, HttpMetrics::kUnmatched, rejection.status,
                         Clock::now() - requestStartedAt_);
  appendResponse(output_, Response::problem(Problem{.status = rejection.status, .detail = rejection.detail}),
                 Poco::Net::HTTPMessage::HTTP_1_1, false, false);
  requestStarted_ = false;
  finishAnswer(false, true, onWorker);
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

bool Connection::finishAnswer(bool keepAlive, bool linger, bool onWorker) {
  if (!flush()) {
    close();
    return false;
  }
  if (!output_.empty()) {  // the client reads slowly: the loop sends the rest
    deadline_ = Clock::now() + shared_.settings.receiveTimeout;
    keepAliveAfterOutput_ = keepAlive;
    lingerAfterOutput_ = linger;
    waitFor(State::Writing, PollSet::POLL_WRITE, onWorker);
    return false;
  }
  if (keepAlive) return true;
  if (linger) startLingering(onWorker);
  else close();
  return false;
}

void Connection::onWritable() {
  if (state() != State::Writing) return;
  if (!finishAnswer(keepAliveAfterOutput_, lingerAfterOutput_, false)) return;
  advance(false);
}

void Connection::startLingering(bool onWorker) {
  try {
    socket_.shutdownSend();
  } catch (const Poco::Exception&) {
    return close();  // the client is gone
  }
  input_.clear();
  lastReceiveAt_ = Clock::now();
  lingerUntil_ = lastReceiveAt_ + kLingerTotal;
  waitFor(State::Lingering, PollSet::POLL_READ, onWorker);
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
  unwatch();
  loop_.forget(*this);
  state_ = State::Closed;
  try {
    socket_.close();
  } catch (const Poco::Exception&) {
  }
}

void Connection::watch(int mode) {
  if (watchedMode_ == mode) return;
  loop_.watch(*this, mode);
  watchedMode_ = mode;
}

void Connection::unwatch() {
  if (watchedMode_ == 0) return;
  loop_.unwatch(*this);
  watchedMode_ = 0;
}

// A worker hands the connection back through the loop, under its lock, as the last thing it
// does with it: from then on the loop's thread may be using it.
void Connection::waitFor(State state, int mode, bool onWorker) {
  if (onWorker) {
    watchedMode_ = mode;
    loop_.handBack(*this, state, mode);
    return;
  }
  state_ = state;
  watch(mode);
}

}  // namespace svc::host
