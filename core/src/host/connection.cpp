#include "connection.h"

#include <poll.h>

#include <cerrno>
#include <istream>
#include <string>

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/NetException.h>
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

// The body, read within `limit`: HttpError 413 when it is larger, 408 when it does not arrive.
std::string readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit) {
  const bool chunked = request.getChunkedTransferEncoding();
  if (!chunked && !request.hasContentLength()) return {};
  const std::string tooLarge = "The request body is larger than " + std::to_string(limit) + " bytes";
  if (!chunked && request.getContentLength64() > static_cast<Poco::Int64>(limit)) throw HttpError(413, tooLarge);
  const std::size_t wanted = chunked ? limit + 1 : static_cast<std::size_t>(request.getContentLength64());
  std::string body(wanted, '\0');
  std::istream& in = request.stream();
  in.read(body.data(), static_cast<std::streamsize>(wanted));
  body.resize(static_cast<std::size_t>(in.gcount()));
  if (chunked && body.size() > limit) throw HttpError(413, tooLarge);
  if (!chunked && body.size() < wanted) throw HttpError(408, "The request body did not arrive in time");
  return body;
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
  return ready > 0;
}

ServiceConnection::ServiceConnection(const Poco::Net::StreamSocket& socket, const Dispatcher& dispatcher,
                                     const ServerSettings& settings, Poco::Net::HTTPServerParams::Ptr params,
                                     ConnectionTracker& tracker)
    : TCPServerConnection(socket), dispatcher_(dispatcher), settings_(settings), params_(std::move(params)),
      tracker_(tracker) {
  tracker_.add(*this);
}

ServiceConnection::~ServiceConnection() { tracker_.remove(*this); }

void ServiceConnection::run() {
  ServiceSession session(socket(), params_);
  const int limit = settings_.maxKeepAliveRequests;
  for (int served = 0; limit == 0 || served < limit; ++served) {
    if (!startRequest(session, served == 0) || !serveOne(session)) break;
  }
}

bool ServiceConnection::startRequest(ServiceSession& session, bool first) {
  {
    std::lock_guard lock(stateMutex_);
    idle_ = true;
    if (closed_ || tracker_.stopping()) return false;
  }
  const bool ready = session.waitForRequest(first ? settings_.receiveTimeout : settings_.keepAliveTimeout);
  std::lock_guard lock(stateMutex_);
  idle_ = false;
  if (!ready || closed_) return false;
  deadline_.store((Clock::now() + settings_.requestTimeout).time_since_epoch().count());
  return true;
}

// Returns whether the connection stays open for another request.
bool ServiceConnection::serveOne(ServiceSession& session) {
  Poco::Net::HTTPServerResponseImpl response(session);
  try {
    Poco::Net::HTTPServerRequestImpl request(response, session, params_);
    response.setDate(Poco::Timestamp());
    response.setVersion(request.getVersion());
    response.setKeepAlive(settings_.keepAlive && request.getKeepAlive() && !tracker_.stopping());
    const bool bodyFits = !request.hasContentLength() ||
                          request.getContentLength64() <= static_cast<Poco::Int64>(settings_.maxBodyBytes);
    if (request.getExpectContinue() && bodyFits) response.sendContinue();
    std::string body;
    try {
      body = readBody(request, settings_.maxBodyBytes);
    } catch (const HttpError& error) {
      rejectAndClose(response, timedOut_ ? 408 : error.problem().status, error.problem().detail);
      return false;
    }
    deadline_.store(0);
    if (timedOut_) return false;  // cut off while its last bytes arrived
    dispatcher_.handle(request, std::move(body), response);
    return response.getKeepAlive();
  } catch (const Poco::Net::MessageException& error) {
    if (timedOut_) rejectAndClose(response, 408, "The request did not arrive in time");
    else rejectAndClose(response, isHeadTooLarge(error) ? 431 : 400, "The request is malformed: " + error.message());
  } catch (const Poco::TimeoutException&) {
    rejectAndClose(response, 408, "The request did not arrive in time");
  } catch (const Poco::Exception&) {
    // closed before a request began (NoMessageException) or reset by the client
    if (timedOut_) rejectAndClose(response, 408, "The request did not arrive in time");
  }
  return false;
}

void ServiceConnection::rejectAndClose(Poco::Net::HTTPServerResponse& response, int status,
                                       const std::string& detail) {
  dispatcher_.reject(response, status, detail);
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
