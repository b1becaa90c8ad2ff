#include "dispatcher.h"

#include <chrono>
#include <exception>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include "svc/storage.h"

namespace svc::host {

namespace {

class DispatchHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit DispatchHandler(const Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    dispatcher_.handle(request, response);
  }

 private:
  const Dispatcher& dispatcher_;
};

Response problemResponse(const HttpError& error) {
  Response response = Response::problem(error.problem());
  for (const Header& header : error.headers()) response.withHeader(header.name, header.value);
  return response;
}

// A response that closes the connection before the request body was read (413, 408) would make
// the kernel reset the connection, and a client still sending could lose the response. As
// nginx does, stop sending, then read and discard for a bounded time so the client sees it.
void lingerBeforeClosing(Poco::Net::HTTPServerRequest& request) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
  if (impl == nullptr) return;
  Poco::Net::StreamSocket& socket = impl->socket();
  try {
    socket.shutdownSend();
    socket.setReceiveTimeout(Poco::Timespan(0, 200'000));
    char discard[16384];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline && socket.receiveBytes(discard, sizeof discard) > 0) {
    }
  } catch (const Poco::Exception&) {
    // the client went away or kept quiet: close now
  }
}

void send(const Response& result, Poco::Net::HTTPServerResponse& response) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(result.status));
  if (!result.body.empty()) response.setContentType(result.contentType);
  for (const Header& header : result.headers) response.set(header.name, header.value);
  if (result.closeConnection) response.setKeepAlive(false);
  // RFC 9110: a 204 has no Content-Length. POCO omits the body of a HEAD response itself.
  if (result.status != 204) response.setContentLength64(static_cast<Poco::Int64>(result.body.size()));
  std::ostream& out = response.send();
  out.write(result.body.data(), static_cast<std::streamsize>(result.body.size()));
  out.flush();  // now, not when POCO destroys the response: lingerBeforeClosing comes next
}

}  // namespace

Dispatcher::Dispatcher(const Router& router, const Logger& logger, std::size_t maxBodyBytes)
    : router_(router), logger_(logger), maxBodyBytes_(maxBodyBytes) {}

Poco::Net::HTTPRequestHandler* Dispatcher::createRequestHandler(const Poco::Net::HTTPServerRequest&) {
  return new DispatchHandler(*this);
}

void Dispatcher::handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string& method = request.getMethod();
  std::string path = request.getURI();
  const Response result = respond(request, path);
  try {
    send(result, response);
    if (result.closeConnection) lingerBeforeClosing(request);
  } catch (const std::exception& error) {
    logger_.debug("Response not delivered", {{"method", method}, {"path", path}, {"error", error.what()}});
  }
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - started;
  logger_.info("Request handled",
               {{"method", method}, {"path", path}, {"status", result.status}, {"duration_ms", elapsed.count()}});
}

// The last-resort guard: whatever a handler throws becomes a problem response.
Response Dispatcher::respond(Poco::Net::HTTPServerRequest& request, std::string& path) const {
  const std::string& method = request.getMethod();
  std::string body;
  try {
    body = readBody(request);
  } catch (const HttpError& error) {
    Response result = problemResponse(error);
    result.closeConnection = true;  // the rest of the body was not read
    return result;
  }
  try {
    return route(request, path, std::move(body));
  } catch (const StorageUnavailable& error) {
    logger_.warning("Storage unavailable", {{"method", method}, {"path", path}, {"cause", error.cause()}});
    return problemResponse(error);
  } catch (const HttpError& error) {
    return problemResponse(error);
  } catch (const Poco::Exception& error) {
    return internalError(method, path, error.displayText());
  } catch (const std::exception& error) {
    return internalError(method, path, error.what());
  } catch (...) {
    return internalError(method, path, "unknown exception");
  }
}

Response Dispatcher::internalError(const std::string& method, const std::string& path, const std::string& cause) const {
  logger_.error("Request failed", {{"method", method}, {"path", path}, {"error", cause}});
  return Response::problem(Problem{.status = 500, .detail = "The server failed to handle the request; it was logged"});
}

Response Dispatcher::route(Poco::Net::HTTPServerRequest& request, std::string& path, std::string body) const {
  std::string query;
  try {
    const Poco::URI uri(request.getURI());
    path = uri.getPath();
    query = uri.getRawQuery();
  } catch (const Poco::SyntaxException&) {
    throw HttpError(400, "The request target is not a valid URI");
  }
  const RouteLookup lookup = router_.find(request.getMethod(), path);
  if (!lookup.pathExists()) throw HttpError(404, "Nothing is served at " + path);
  const std::string allow = joinMethods(lookup.allowedMethods);
  if (!lookup.found() && request.getMethod() == "OPTIONS") {
    return Response{.status = 204, .contentType = "", .body = ""}.withHeader("Allow", allow);
  }
  if (!lookup.found()) {
    throw HttpError(Problem{.status = 405, .detail = request.getMethod() + " is not allowed on " + path},
                    {{"Allow", allow}});
  }
  const Request routed(request.getMethod(), path, std::move(query), lookup.route->pattern, lookup.params, request,
                       std::move(body));
  return lookup.route->handler(routed);
}

std::string Dispatcher::readBody(Poco::Net::HTTPServerRequest& request) const {
  const bool chunked = request.getChunkedTransferEncoding();
  if (!chunked && !request.hasContentLength()) return {};
  const std::streamsize declared = chunked ? -1 : request.getContentLength64();
  if (declared > static_cast<std::streamsize>(maxBodyBytes_)) {
    throw HttpError(413, "The request body is larger than " + std::to_string(maxBodyBytes_) + " bytes");
  }
  const std::size_t wanted = chunked ? maxBodyBytes_ + 1 : static_cast<std::size_t>(declared);
  std::string body(wanted, '\0');
  std::istream& in = request.stream();
  in.read(body.data(), static_cast<std::streamsize>(wanted));
  body.resize(static_cast<std::size_t>(in.gcount()));
  if (chunked && body.size() > maxBodyBytes_) {
    throw HttpError(413, "The request body is larger than " + std::to_string(maxBodyBytes_) + " bytes");
  }
  if (!chunked && body.size() < wanted) throw HttpError(408, "The request body did not arrive in time");
  return body;
}

}  // namespace svc::host
