#include "connection.h"

#include <poll.h>

#include <cerrno>
#include <ctime>
#include <istream>
#include <memory>
#include <optional>
#include <string>

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/NetException.h>
#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include "svc/http.h"

namespace svc::host {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kWatchdogPeriod{100};

// POCO's words for a request head over its size limits (MessageHeader::read).
bool isHeadTooLarge(const Poco::Net::MessageException& error) {
  const std::string& text = error.message();
  return text.find("Too many header fields") != std::string::npos ||
         text.find("Field name too long") != std::string::npos ||
         text.find("Field value too long") != std::string::npos;
}

// The body, read within `limit`: HttpError 413 when it is larger, 408 when it ends early.
// A malformed chunk or a timeout propagates as POCO's exception (the stream would hide it).
std::string readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit) {
  const bool chunked = request.getChunkedTransferEncoding();
  if (!chunked && !request.hasContentLength()) return {};
  const std::string tooLarge = "The request body is larger than " + std::to_string(limit) + " bytes";
  if (!chunked && request.getContentLength64() > static_cast<Poco::Int64>(limit)) throw HttpError(413, tooLarge);
  const std::size_t wanted = chunked ? limit + 1 : static_cast<std::size_t>(request.getContentLength64());
  std::string body(wanted, '\0');
  std::istream& in = request.stream();
  in.exceptions(std::ios::badbit);
  in.read(body.data(), static_cast<std::streamsize>(wanted));
  body.resize(static_cast<std::size_t>(in.gcount()));
  if (chunked && body.size() > limit) throw HttpError(413, tooLarge);
  if (!chunked && body.size() < wanted) throw HttpError(408, "The request body did not arrive in time");
  return body;
}

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

void send(Poco::Net::HTTPServerResponse& response, const Response& result, bool keepAlive) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(result.status));
  response.set("Date", httpDate());
  response.setKeepAlive(keepAlive);
  if (!result.body.empty()) response.setContentType(result.contentType);
  for (const Header& header : result.headers) response.set(header.name, header.value);
  // RFC 9110: a 204 has no Content-Length. POCO omits the body of a HEAD response itself.
  if (result.status != 204) response.setContentLength64(static_cast<Poco::Int64>(result.body.size()));
  std::ostream& out = response.send();
  out.write(result.body.data(), static_cast<std::streamsize>(result.body.size()));
  out.flush();  // now, not when POCO destroys the response: the connection may linger next
}

bool isSupportedVersion(const std::string& version) {
  return version == Poco::Net::HTTPMessage::HTTP_1_1 || version == Poco::Net::HTTPMessage::HTTP_1_0;
}

bool isByteCount(const std::string& value) {
  return !value.empty() && value.size() <= 18 && value.find_first_not_of("0123456789") == std::string::npos;
}

// Where a body ends must be beyond doubt, or what follows it could be read as another request
// (request smuggling): refuse framings POCO would read otherwise than a proxy in front might.
// One pass over the header fields, since a request may repeat either header.
void requireUnambiguousFraming(const Poco::Net::HTTPServerRequest& request) {
  const std::string* length = nullptr;
  int codings = 0;
  for (const auto& [name, value] : request) {
    if (Poco::icompare(name, "Content-Length") == 0) {
      if (!isByteCount(value) || (length != nullptr && value != *length)) {
        throw HttpError(400, "Content-Length must be one number of bytes, not \"" + value + "\"");
      }
      length = &value;
    } else if (Poco::icompare(name, "Transfer-Encoding") == 0) {
      ++codings;
    }
  }
  if (codings == 0) return;
  if (codings > 1) throw HttpError(501, "Transfer-Encoding must be given once: a single chunked");
  if (!request.getChunkedTransferEncoding()) {
    throw HttpError(501, "Transfer-Encoding " + request.get("Transfer-Encoding") + " is not supported; use chunked");
  }
  if (length != nullptr) throw HttpError(400, "Transfer-Encoding and Content-Length cannot be combined");
}

// Closing with unread input makes the kernel reset the connection, and a client still sending
// could lose the answer. As nginx does, stop sending, then read and discard for a bounded time.
void lingerBeforeClosing(Poco::Net::StreamSocket& socket) {
  try {
    socket.shutdownSend();
    socket.setReceiveTimeout(Poco::Timespan(0, 200'000));
    char discard[16384];
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < deadline && socket.receiveBytes(discard, sizeof discard) > 0) {
    }
  } catch (const Poco::Exception&) {
    // the client went away or kept quiet: close now
  }
}

}  // namespace

ConnectionTracker::ConnectionTracker() : watchdog_([this] { watch(); }) {}

ConnectionTracker::~ConnectionTracker() {
  {
    std::lock_guard lock(mutex_);
    watching_ = false;
  }
  stopWatching_.notify_all();
  watchdog_.join();
}

void ConnectionTracker::watch() {
  std::unique_lock lock(mutex_);
  while (!stopWatching_.wait_for(lock, kWatchdogPeriod, [&] { return !watching_; })) {
    const auto now = Clock::now();
    for (ServiceConnection* connection : connections_) connection->enforceDeadline(now);
  }
}

void ConnectionTracker::add(ServiceConnection& connection) {
  std::lock_guard lock(mutex_);
  connections_.insert(&connection);
}

void ConnectionTracker::remove(ServiceConnection& connection) {
  {
    std::lock_guard lock(mutex_);
    connections_.erase(&connection);
  }
  ended_.notify_all();
}

void ConnectionTracker::beginStop() {
  stopping_.store(true, std::memory_order_release);
  std::lock_guard lock(mutex_);
  for (ServiceConnection* connection : connections_) connection->closeIfIdle();
}

bool ConnectionTracker::waitUntilNoneBefore(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return ended_.wait_until(lock, deadline, [&] { return connections_.empty(); });
}

void ConnectionTracker::abortAll() {
  std::lock_guard lock(mutex_);
  for (ServiceConnection* connection : connections_) connection->abort();
}

bool ServiceSession::waitForRequest(std::chrono::milliseconds timeout) {
  if (buffered() > 0) return true;
  pollfd readable{.fd = socket().impl()->sockfd(), .events = POLLIN, .revents = 0};
  int ready = 0;
  do {
    ready = ::poll(&readable, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  try {
    // Readable may mean closed: only bytes make a request (peek buffers them for the parser).
    return ready > 0 && peek() != std::char_traits<char>::eof();
  } catch (const Poco::Exception&) {
    return false;
  }
}

ServiceConnection::ServiceConnection(const Poco::Net::StreamSocket& socket, ConnectionEnvironment environment)
    : TCPServerConnection(socket), shared_(std::move(environment)) {
  shared_.tracker.add(*this);
}

ServiceConnection::~ServiceConnection() { shared_.tracker.remove(*this); }

void ServiceConnection::run() {
  ServiceSession session(socket(), shared_.params);
  const int limit = shared_.settings.maxKeepAliveRequests;
  for (int served = 0; limit == 0 || served < limit; ++served) {
    if (!startRequest(session, served == 0) || !serveOne(session, served + 1 == limit)) break;
  }
}

bool ServiceConnection::startRequest(ServiceSession& session, bool first) {
  {
    std::lock_guard lock(stateMutex_);
    idle_ = true;
    if (closed_ || shared_.tracker.stopping()) return false;
  }
  const bool ready = session.waitForRequest(first ? shared_.settings.receiveTimeout : shared_.settings.keepAliveTimeout);
  std::lock_guard lock(stateMutex_);
  idle_ = false;
  if (!ready || closed_) return false;
  deadline_.store((Clock::now() + shared_.settings.requestTimeout).time_since_epoch().count());
  return true;
}

bool ServiceConnection::serveOne(ServiceSession& session, bool lastAllowed) {
  requestStarted_ = Clock::now();
  Poco::Net::HTTPServerResponseImpl response(session);
  std::unique_ptr<Poco::Net::HTTPServerRequestImpl> request;
  std::string body;
  const auto method = [&]() -> std::string { return request ? request->getMethod() : std::string(); };
  // POCO attaches a request to its response before reading it: when the request's constructor
  // throws, `response` points at the freed request, so the rejection needs a response of its own.
  std::optional<Poco::Net::HTTPServerResponseImpl> unattached;
  const auto answer = [&]() -> Poco::Net::HTTPServerResponse& {
    return request ? static_cast<Poco::Net::HTTPServerResponse&>(response) : unattached.emplace(session);
  };
  try {
    request = std::make_unique<Poco::Net::HTTPServerRequestImpl>(response, session, shared_.params.get());
    if (!isSupportedVersion(request->getVersion())) {
      rejectAndClose(response, 505, "Only HTTP/1.0 and HTTP/1.1 are served, not " + request->getVersion(), method());
      return false;
    }
    response.setVersion(request->getVersion());
    requireUnambiguousFraming(*request);  // before the body is read
    const bool bodyFits = !request->hasContentLength() ||
                          request->getContentLength64() <= static_cast<Poco::Int64>(shared_.settings.maxBodyBytes);
    if (request->getExpectContinue() && bodyFits) response.sendContinue();
    body = readBody(*request, shared_.settings.maxBodyBytes);
  } catch (const HttpError& error) {
    rejectAndClose(answer(), timedOut_ ? 408 : error.problem().status, error.problem().detail, method());
    return false;
  } catch (const Poco::Net::MessageException& error) {
    if (timedOut_) rejectAndClose(answer(), 408, "The request did not arrive in time", method());
    else rejectAndClose(answer(), isHeadTooLarge(error) ? 431 : 400, "The request is malformed: " + error.message(), method());
    return false;
  } catch (const Poco::SyntaxException& error) {  // POCO parses Content-Length as it reads the head
    rejectAndClose(answer(), timedOut_ ? 408 : 400, "The request is malformed: " + error.message(), method());
    return false;
  } catch (const Poco::Exception&) {
    // a timeout, or the client stopped sending in the middle: its first bytes had arrived
    rejectAndClose(answer(), 408, "The request did not arrive in time", method());
    return false;
  }
  deadline_.store(0);
  if (timedOut_) {  // POCO took the end of a cut-off stream for the end of the head or body
    rejectAndClose(response, 408, "The request did not arrive in time", method());
    return false;
  }
  const Dispatcher::Dispatched result = shared_.dispatcher.dispatch(*request, std::move(body));
  // POCO's chunk decoder takes a malformed chunk for the end of the body, so the connection
  // does not carry another request after a chunked one.
  const bool keepAlive = shared_.settings.keepAlive && request->getKeepAlive() && !lastAllowed &&
                         !request->getChunkedTransferEncoding() && !result.response.closeConnection &&
                         !shared_.tracker.stopping();
  // Counted before sending: a client that has its answer finds it counted in /metrics.
  const auto elapsed = Clock::now() - requestStarted_;
  shared_.metrics.record(request->getMethod(), result.patternId, result.response.status, elapsed);
  try {
    send(response, result.response, keepAlive);
  } catch (const Poco::Exception& error) {
    shared_.logger.debug("Response not delivered", {{"path", result.path}, {"error", error.displayText()}});
  }
  shared_.logger.info("Request handled", {{"method", request->getMethod()},
                                   {"path", result.path},
                                   {"status", result.response.status},
                                   {"duration_ms", std::chrono::duration<double, std::milli>(elapsed).count()}});
  return keepAlive;
}

void ServiceConnection::rejectAndClose(Poco::Net::HTTPServerResponse& response, int status,
                                       const std::string& detail, const std::string& method) {
  shared_.logger.info("Request rejected", {{"status", status}, {"reason", detail}});
  shared_.metrics.record(method, HttpMetrics::kUnmatched, status, Clock::now() - requestStarted_);
  try {
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    send(response, Response::problem(Problem{.status = status, .detail = detail}), false);
  } catch (const Poco::Exception&) {
    return;  // the client is gone
  }
  lingerBeforeClosing(socket());
}

void ServiceConnection::enforceDeadline(Clock::time_point now) {
  const auto deadline = deadline_.load();
  if (deadline == 0 || now.time_since_epoch().count() < deadline || timedOut_.exchange(true)) return;
  try {
    socket().shutdownReceive();  // the blocked read ends; the answer can still be sent
  } catch (const Poco::Exception&) {
  }
}

bool ServiceConnection::closeIfIdle() {
  std::lock_guard lock(stateMutex_);
  if (!idle_ || closed_) return false;
  closed_ = true;
  abort();
  return true;
}

void ServiceConnection::abort() {
  try {
    socket().shutdown();
  } catch (const Poco::Exception&) {
    // already closed by the client
  }
}

}  // namespace svc::host
