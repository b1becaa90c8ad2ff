#include "upstream_exchange.h"

#include <array>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/URI.h>

namespace svc::host {

namespace {

using Poco::Net::HTTPClientSession;

// Below the keep-alive timeouts servers commonly use (this service's: 10 s): POCO reconnects a
// session that was idle longer instead of sending on a connection the server may be closing.
constexpr int kIdleSecondsBeforeReconnect = 5;

bool isBareAuthority(const Poco::URI& uri) {
  return uri.getScheme() == "http" && !uri.getHost().empty() && uri.getUserInfo().empty() &&
         (uri.getPath().empty() || uri.getPath() == "/") && uri.getRawQuery().empty() && uri.getFragment().empty() &&
         uri.getPort() != 0;
}

// Readable while idle: the peer closed it (or sent what nobody asked for).
bool closedByPeer(HTTPClientSession& session) {
  if (!session.connected()) return false;
  try {
    return session.socket().poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR);
  } catch (const Poco::Exception&) {
    return true;
  }
}

// Each socket operation waits at most what is left (a timeout of 0 would mean forever). Set on
// the socket too: the session's own timeouts reach a socket when it connects.
void boundBy(HTTPClientSession& session, UpstreamClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - UpstreamClock::now());
  if (left.count() <= 0) throw Poco::TimeoutException("the deadline passed");
  const Poco::Timespan timeout(left.count());
  session.setTimeout(timeout, timeout, timeout);
  if (session.connected()) {
    session.socket().setReceiveTimeout(timeout);
    session.socket().setSendTimeout(timeout);
  }
}

// A stream swallows what its buffer throws; the session keeps it.
void rethrowIfBroken(const HTTPClientSession& session, const std::ios& stream) {
  if (!stream.bad()) return;
  if (const Poco::Exception* error = session.networkException()) error->rethrow();
  throw Poco::IOException("the connection failed");
}

Poco::Net::HTTPRequest outgoing(const UpstreamRequest& request, const Correlation& correlation) {
  Poco::Net::HTTPRequest message(request.method, request.target, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const Header& header : request.headers) message.add(header.name, header.value);
  message.set("X-Request-Id", correlation.requestId);
  if (!correlation.traceParent.empty()) message.set("traceparent", correlation.traceParent);
  if (!request.contentType.empty()) message.setContentType(request.contentType);
  const bool mayHaveBody = request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!request.body.empty() || mayHaveBody) message.setContentLength64(static_cast<Poco::Int64>(request.body.size()));
  message.setKeepAlive(true);
  return message;
}

void send(HTTPClientSession& session, const UpstreamRequest& request, const Correlation& correlation,
          UpstreamClock::time_point deadline) {
  Poco::Net::HTTPRequest message = outgoing(request, correlation);
  boundBy(session, deadline);
  std::ostream& body = session.sendRequest(message);
  body.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
  body.flush();
  rethrowIfBroken(session, body);
}

// What POCO reads of an answer that has no body (to HEAD, 1xx, 204, 304) is empty whatever its Content-Length.
bool hasBody(const std::string& method, int status) {
  return method != "HEAD" && status >= 200 && status != 204 && status != 304;
}

std::string readBody(HTTPClientSession& session, std::istream& in, std::int64_t expectedLength,
                     UpstreamClock::time_point deadline) {
  std::string body;
  std::array<char, 8192> buffer;
  while (in) {
    boundBy(session, deadline);  // what is left, not a fresh timeout for each part of the body
    in.read(buffer.data(), buffer.size());
    body.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    rethrowIfBroken(session, in);
  }
  if (expectedLength >= 0 && static_cast<std::int64_t>(body.size()) != expectedLength) {
    throw Poco::Net::MessageException("the connection closed in the middle of the answer");
  }
  return body;
}

UpstreamResponse receive(HTTPClientSession& session, const std::string& method, UpstreamClock::time_point deadline,
                         bool& reusable) {
  Poco::Net::HTTPResponse response;
  boundBy(session, deadline);
  std::istream& in = session.receiveResponse(response);
  const int status = static_cast<int>(response.getStatus());
  const bool lengthKnown = response.hasContentLength() && hasBody(method, status);
  UpstreamResponse result{.status = status,
                          .body = readBody(session, in, lengthKnown ? response.getContentLength64() : -1, deadline),
                          .headers = {}};
  for (const auto& [name, value] : response) result.headers.push_back(Header{name, value});
  reusable = response.getKeepAlive();
  return result;
}

}  // namespace

UpstreamEndpoint UpstreamEndpoint::parse(std::string_view baseUrl) {
  const std::string text(baseUrl);
  try {
    const Poco::URI uri(text);
    if (isBareAuthority(uri)) return UpstreamEndpoint{uri.getHost(), uri.getPort()};
  } catch (const Poco::SyntaxException&) {
  }
  throw std::invalid_argument("an upstream's base URL must be http://host:port, not \"" + text + "\"");
}

std::unique_ptr<HTTPClientSession> UpstreamConnections::take() {
  while (true) {
    std::unique_ptr<HTTPClientSession> session;
    {
      std::lock_guard lock(mutex_);
      if (idle_.empty()) break;
      session = std::move(idle_.back());
      idle_.pop_back();
    }
    if (!closedByPeer(*session)) return session;
  }
  auto session = std::make_unique<HTTPClientSession>(endpoint_.host, endpoint_.port);
  session->setKeepAlive(true);
  session->setKeepAliveTimeout(Poco::Timespan(kIdleSecondsBeforeReconnect, 0));
  return session;
}

void UpstreamConnections::giveBack(std::unique_ptr<HTTPClientSession> session) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(session));
}

Attempt exchange(UpstreamConnections& connections, const UpstreamRequest& request, const Correlation& correlation,
                 UpstreamClock::time_point deadline) {
  std::unique_ptr<HTTPClientSession> session = connections.take();
  try {
    send(*session, request, correlation, deadline);
    bool reusable = false;
    UpstreamResponse response = receive(*session, request.method, deadline, reusable);
    if (reusable) connections.giveBack(std::move(session));
    return Attempt{.kind = Attempt::Kind::Answered, .response = std::move(response), .error = {}};
  } catch (const Poco::TimeoutException&) {
    return Attempt{.kind = Attempt::Kind::TimedOut, .response = {}, .error = "no answer by the deadline"};
  } catch (const Poco::Exception& error) {
    return Attempt{.kind = Attempt::Kind::Failed, .response = {}, .error = error.displayText()};
  } catch (const std::exception& error) {
    return Attempt{.kind = Attempt::Kind::Failed, .response = {}, .error = error.what()};
  }
}

}  // namespace svc::host
