#include "dispatcher.h"

#include <exception>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "svc/storage.h"

namespace svc::host {

Dispatcher::Routing Dispatcher::route(const Poco::Net::HTTPRequest& request) const {
  Routing routing{.path = request.getURI()};
  try {
    const Poco::URI uri(request.getURI());
    routing.path = uri.getPath();
    routing.query = uri.getRawQuery();
  } catch (const Poco::SyntaxException&) {
    routing.validTarget = false;
    return routing;
  }
  routing.lookup = router_.find(request.getMethod(), routing.path);
  return routing;
}

// The last-resort guard: whatever a handler throws becomes a problem response (errorResponse
// maps HTTP and domain errors; anything else is a logged 500).
Dispatcher::Dispatched Dispatcher::dispatch(const Poco::Net::HTTPRequest& request, Routing routing,
                                            std::string body) const {
  const std::string& method = request.getMethod();
  Dispatched result{.response = {}, .path = routing.path, .patternId = routing.lookup.patternId};
  try {
    result.response = answer(request, routing, std::move(body));
  } catch (const StorageUnavailable& error) {
    logger_.warning("Storage unavailable", {{"method", method}, {"path", result.path}, {"cause", error.cause()}});
    result.response = *errorResponse(error);
  } catch (const Poco::Exception& error) {
    result.response = internalError(method, result.path, error.displayText());
  } catch (const std::exception& error) {
    std::optional<Response> answer = errorResponse(error);
    result.response = answer ? std::move(*answer) : internalError(method, result.path, error.what());
  } catch (...) {
    result.response = internalError(method, result.path, "unknown exception");
  }
  return result;
}

Response Dispatcher::internalError(const std::string& method, const std::string& path, const std::string& cause) const {
  logger_.error("Request failed", {{"method", method}, {"path", path}, {"error", cause}});
  return Response::problem(Problem{.status = 500, .detail = "The server failed to handle the request; it was logged"});
}

Response Dispatcher::answer(const Poco::Net::HTTPRequest& request, Routing& routing, std::string body) const {
  if (!routing.validTarget) throw HttpError(400, "The request target is not a valid URI");
  const RouteLookup& lookup = routing.lookup;
  if (!lookup.pathExists()) throw HttpError(404, "Nothing is served at " + routing.path);
  const std::string allow = joinMethods(lookup.allowedMethods);
  if (!lookup.found() && request.getMethod() == "OPTIONS") {
    return Response{.status = 204, .contentType = "", .body = ""}.withHeader("Allow", allow);
  }
  if (!lookup.found()) {
    throw HttpError(Problem{.status = 405, .detail = request.getMethod() + " is not allowed on " + routing.path},
                    {{"Allow", allow}});
  }
  const Request routed(request.getMethod(), routing.path, std::move(routing.query), lookup.route->pattern,
                       lookup.params, request, std::move(body));
  return lookup.route->handler(routed);
}

}  // namespace svc::host
