#include "dispatcher.h"

#include <chrono>
#include <exception>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "svc/storage.h"

namespace svc::host {

namespace {

Response problemResponse(const HttpError& error) {
  Response response = Response::problem(error.problem());
  for (const Header& header : error.headers()) response.withHeader(header.name, header.value);
  return response;
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
  out.flush();  // now, not when POCO destroys the response: the connection may linger next
}

}  // namespace

void Dispatcher::reject(Poco::Net::HTTPServerResponse& response, int status, const std::string& detail) const {
  logger_.info("Request rejected", {{"status", status}, {"reason", detail}});
  Response result = Response::problem(Problem{.status = status, .detail = detail});
  result.closeConnection = true;
  try {
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    send(result, response);
  } catch (const Poco::Exception&) {
    // the client is gone
  }
}

void Dispatcher::handle(Poco::Net::HTTPServerRequest& request, std::string body,
                        Poco::Net::HTTPServerResponse& response) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string& method = request.getMethod();
  std::string path = request.getURI();
  const Response result = respond(request, std::move(body), path);
  try {
    send(result, response);
  } catch (const std::exception& error) {
    logger_.debug("Response not delivered", {{"method", method}, {"path", path}, {"error", error.what()}});
  }
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - started;
  logger_.info("Request handled",
               {{"method", method}, {"path", path}, {"status", result.status}, {"duration_ms", elapsed.count()}});
}

// The last-resort guard: whatever a handler throws becomes a problem response.
Response Dispatcher::respond(Poco::Net::HTTPServerRequest& request, std::string body, std::string& path) const {
  const std::string& method = request.getMethod();
  try {
    return route(request, std::move(body), path);
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

Response Dispatcher::route(Poco::Net::HTTPServerRequest& request, std::string body, std::string& path) const {
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

}  // namespace svc::host
