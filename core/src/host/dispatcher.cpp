#include "dispatcher.h"

#include <algorithm>
#include <cctype>
#include <random>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "problems.h"
#include "svc/storage.h"

namespace svc::host {

namespace {

constexpr std::size_t kMaxRequestIdLength = 128;

// Letters, digits and - _ . : / + = @ (a UUID, a ULID, a base64 id, a trace id...), 1 to 128 of them.
bool isWellFormedRequestId(const std::string& id) {
  return !id.empty() && id.size() <= kMaxRequestIdLength && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("-_.:/+=@").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool isLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
}

// version "-" trace-id "-" parent-id "-" flags, e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01,
// with a trace id and a parent id that are not all zeros.
std::optional<std::string> traceIdOf(const std::string& traceParent) {
  if (traceParent.size() != 55 || traceParent[2] != '-' || traceParent[35] != '-' || traceParent[52] != '-') {
    return std::nullopt;
  }
  const std::string_view text(traceParent);
  const std::string_view version = text.substr(0, 2), trace = text.substr(3, 32), parent = text.substr(36, 16),
                         flags = text.substr(53, 2);
  if (!isLowerHex(version) || version == "ff" || !isLowerHex(trace) || !isLowerHex(parent) || !isLowerHex(flags)) {
    return std::nullopt;
  }
  if (trace == std::string(32, '0') || parent == std::string(16, '0')) return std::nullopt;
  return std::string(trace);
}

std::string randomHex(std::size_t digits) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(digits, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    if (i % 16 == 0) bits = generator();
    text[i] = kHex[bits & 0xf];
    bits >>= 4;
  }
  return text;
}

}  // namespace

// A copy: get() with a default returns a reference to that default, a temporary here.
std::string requestIdOf(const Poco::Net::HTTPRequest& request) {
  const std::string given = request.get("X-Request-Id", "");
  if (isWellFormedRequestId(given)) return given;
  if (auto trace = traceIdOf(request.get("traceparent", ""))) return *trace;
  return newRequestId();
}

std::string newRequestId() { return randomHex(32); }

std::string traceParentOf(const Poco::Net::HTTPRequest& request) {
  const std::string given = request.get("traceparent", "");
  const auto trace = traceIdOf(given);
  if (!trace) return "";
  return "00-" + *trace + "-" + randomHex(16) + "-" + given.substr(53, 2);
}

Dispatcher::Routing Dispatcher::route(const Poco::Net::HTTPRequest& request,
                                      std::chrono::steady_clock::time_point arrived) const {
  Routing routing{.path = request.getURI()};
  routing.context = std::make_shared<const RequestContext>(RequestContext{
      .requestId = requestIdOf(request), .traceParent = traceParentOf(request), .deadline = arrived + requestBudget_});
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

// The last-resort guard: whatever a handler throws becomes a problem response.
Dispatcher::Dispatched Dispatcher::dispatch(const Poco::Net::HTTPRequest& request, Routing routing,
                                            std::string body) const {
  const RequestScope scope(routing.context);
  Dispatched result{.response = {}, .path = routing.path, .patternId = routing.lookup.patternId};
  try {
    result.response = answer(request, routing, std::move(body));
  } catch (...) {
    result.response = answerFailure(std::current_exception(), request.getMethod(), result.path);
  }
  return result;
}

void Dispatcher::dispatchAsync(const Request& request, const Routing& routing,
                               std::shared_ptr<detail::Exchange> exchange) const {
  const RequestScope scope(routing.context);
  try {
    routing.lookup.route->asyncHandler(request, Reply(exchange));
  } catch (...) {  // the Reply is gone by now: the exchange takes this error over its abandonment
    exchange->fail(std::current_exception());
  }
}

Response Dispatcher::answerFailure(std::exception_ptr error, const std::string& method, const std::string& path) const {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const StorageUnavailable& unavailable) {
    logger_.warning("Storage unavailable", {{"method", method}, {"path", path}, {"cause", unavailable.cause()}});
    return *errorResponse(unavailable);
  } catch (const Poco::Exception& failure) {
    return internalError(method, path, failure.displayText());
  } catch (const std::exception& failure) {
    std::optional<Response> answer = errorResponse(failure);
    return answer ? std::move(*answer) : internalError(method, path, failure.what());
  } catch (...) {
    return internalError(method, path, "unknown exception");
  }
}

Response Dispatcher::internalError(const std::string& method, const std::string& path, const std::string& cause) const {
  logger_.error("Request failed", {{"method", method}, {"path", path}, {"error", cause}});
  return Response::problem(Problem{.status = 500, .detail = "The server failed to handle the request; it was logged"});
}

Request Dispatcher::routedRequest(const Poco::Net::HTTPRequest& request, Routing& routing, std::string body) const {
  return Request(request.getMethod(), routing.path, std::move(routing.query), routing.lookup.route->pattern,
                 routing.lookup.params, request, std::move(body), routing.context);
}

Response Dispatcher::answer(const Poco::Net::HTTPRequest& request, Routing& routing, std::string body) const {
  if (!routing.validTarget) throw HttpError(400, "The request target is not a valid URI");
  const RouteLookup& lookup = routing.lookup;
  if (!lookup.pathExists()) {
    throw HttpError(Problem{.status = 404, .type = std::string(kNoRouteProblemType), .detail = "Nothing is served at " + routing.path});
  }
  if (lookup.found()) return lookup.route->handler(routedRequest(request, routing, std::move(body)));
  const std::string allow = joinMethods(lookup.allowedMethods);
  if (request.getMethod() == "OPTIONS") {
    return Response{.status = 204, .contentType = "", .body = ""}.withHeader("Allow", allow);
  }
  throw HttpError(Problem{.status = 405, .detail = request.getMethod() + " is not allowed on " + routing.path},
                  {{"Allow", allow}});
}

}  // namespace svc::host
