// A raw HTTP request (head + body) taken through what the service does with it:
// POCO reads the head, Poco::URI splits the target, the Router (holding the routes the service
// registers: the host's and the orders routes with and without /api/v1) finds the route, and
// the route's own parsing runs: positiveIdParam for an order's routes, the query parameters for
// the listing, parseJsonBody + readOrderDraft + validateNewOrder and the Idempotency-Key for POST. The handlers'
// database work is left out. Invariants, abort() when one breaks:
//  - an svc::HttpError or a domain error (svc/errors.h) is answered (svc::errorResponse) with a
//    4xx status and a body that svc::json::parse reads back to an object with the same status
//    and as many errors;
//  - a validated order has user_id, product_id and quantity in 1..2147483647, each equal to the
//    literal in the body; positiveIdParam returns > 0;
//  - a validated listing has a limit in 1..100, a known status, and a cursor that is exactly what
//    encodeListCursor makes of the id it stands for;
//  - a route found matches the method (HEAD as GET) and has one non-empty value per {param}.
//  - the connection's framing (RequestFramer) rejects only with 400, 413, 431, 501 or 505, and
//    never frames more bytes than arrived or a body over the limit.
// Any exception escaping is a finding (the dispatcher would answer it with a 500).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <istream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/URI.h>

#include "request_framing.h"
#include "router.h"
#include "routes/list_cursor.h"
#include "routes/order_representation.h"
#include "services/order_validation.h"
#include "problems.h"
#include "svc/http.h"
#include "svc/json.h"

namespace {

constexpr std::size_t kMaxBodyBytes = 16384;  // [server] max_body_bytes' default

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

const svc::host::Router& router() {
  static const svc::host::Router instance = [] {
    svc::host::Router r;
    // The handlers are never called: the target runs each route's parsing itself.
    const svc::Handler unused = [](const svc::Request&) { return svc::Response{}; };
    for (const char* path : {"/health", "/health/ready", "/metrics", "/openapi.json"}) r.add("GET", path, unused);
    for (const std::string prefix : {"/orders", "/api/v1/orders"}) {  // as the orders plugin adds them
      r.add("POST", prefix, unused);
      r.add("GET", prefix, unused);
      r.add("GET", prefix + "/{id}", unused);
      r.add("POST", prefix + "/{id}/cancel", unused);
    }
    return r;
  }();
  return instance;
}

void checkAnswer(const std::exception& error, std::size_t fieldErrors) {
  const std::optional<svc::Response> answer = svc::errorResponse(error);
  if (!answer) fail("an error without an answer", error.what());
  if (answer->status < 400 || answer->status > 499) fail("error status is not 4xx", std::to_string(answer->status));
  const std::string& text = answer->body;
  svc::json::Value parsed;
  try {
    parsed = svc::json::parse(text);
  } catch (const svc::json::ParseError& error) {
    fail("problemJson is not valid JSON", text + "\n" + error.what());
  }
  const svc::json::Value* status = parsed.find("status");
  if (!parsed.isObject() || status == nullptr || status->asInt64() != answer->status) {
    fail("problemJson lost the status", text);
  }
  const svc::json::Value* errors = parsed.find("errors");
  const std::size_t count = errors == nullptr ? 0 : errors->items().size();
  if (count != fieldErrors) fail("problemJson lost field errors", text);
}

void checkField(const svc::json::Value& body, std::string_view name, std::int32_t value) {
  const svc::json::Value* member = body.find(name);
  if (value < 1) fail("validated order has a field below 1", name);
  if (member == nullptr || member->text() != std::to_string(value)) fail("validated field differs from the body", name);
}

void checkListing(const svc::Request& request) {
  const orders::ListParameters parameters{.userId = request.queryParam("user_id"),
                                          .status = request.queryParam("status"),
                                          .limit = request.queryParam("limit"),
                                          .cursor = request.queryParam("cursor")};
  const orders::OrderFilter filter = orders::readListParameters(parameters);
  if (filter.limit < 1 || filter.limit > orders::kMaxListLimit) fail("list limit out of range", std::to_string(filter.limit));
  if (filter.status && *filter.status != "created" && *filter.status != "cancelled") fail("unknown status", *filter.status);
  if (filter.userId && *filter.userId < 1) fail("user_id < 1", std::to_string(*filter.userId));
  if (filter.beforeId && orders::encodeListCursor(*filter.beforeId) != *parameters.cursor) {
    fail("a cursor other than the one encodeListCursor makes was accepted", *parameters.cursor);
  }
}

void serve(const std::string& method, const std::string& path, std::string query, const Poco::Net::HTTPRequest& head,
           std::string body) {
  const svc::host::RouteLookup lookup = router().find(method, path);
  if (!lookup.pathExists()) throw svc::HttpError(404, "Nothing is served at " + path);
  if (!lookup.found()) {
    if (method == "OPTIONS") return;
    throw svc::HttpError(svc::Problem{.status = 405, .detail = method + " is not allowed on " + path});
  }
  const svc::host::Route& route = *lookup.route;
  if (route.method != (method == "HEAD" ? "GET" : method)) fail("route of another method", route.method + " " + method);
  const auto parameters = std::count_if(route.segments.begin(), route.segments.end(),
                                        [](const std::string& s) { return s.starts_with('{'); });
  if (lookup.params.size() != static_cast<std::size_t>(parameters)) fail("wrong number of route parameters", path);
  for (const auto& [name, value] : lookup.params) {
    if (value.empty()) fail("empty route parameter", name);
  }

  const svc::Request request(method, path, std::move(query), route.pattern, lookup.params, head, std::move(body),
                             std::make_shared<const svc::RequestContext>());
  if (route.pattern.find("{id}") != std::string::npos) {
    if (svc::positiveIdParam(request, "id") < 1) fail("positiveIdParam returned < 1", request.pathParam("id"));
  } else if (!route.pattern.ends_with("/orders")) {
    return;  // the host's routes read nothing from the request
  } else if (route.method == "POST") {
    const svc::json::Value json = svc::parseJsonBody(request);
    const orders::NewOrder order = orders::validateNewOrder(orders::readOrderDraft(json));
    checkField(json, "user_id", order.userId);
    checkField(json, "product_id", order.productId);
    checkField(json, "quantity", order.quantity);
    if (const auto key = request.header("Idempotency-Key")) orders::validateIdempotencyKey(*key);
  } else {
    checkListing(request);
  }
}


// The request as the connection frames it: a rejection is one of the statuses the connection
// answers itself; a framed request never takes more bytes than arrived, nor a body over the limit.
std::optional<svc::host::RequestFramer> frame(std::string_view input) {
  svc::host::RequestFramer framer(svc::host::FramingLimits{.maxHeadBytes = 65536, .maxBodyBytes = kMaxBodyBytes});
  switch (framer.frame(input, true)) {
    case svc::host::RequestFramer::Progress::NeedMore:
      fail("more bytes wanted after the client's last", std::string(input.substr(0, 200)));
    case svc::host::RequestFramer::Progress::Rejected: {
      const int status = framer.rejection().status;
      if (status != 400 && status != 413 && status != 431 && status != 501 && status != 505) {
        fail("the connection rejects with an unexpected status", std::to_string(status));
      }
      return std::nullopt;
    }
    case svc::host::RequestFramer::Progress::Ready:
      break;
  }
  if (framer.consumed() > input.size()) fail("framed more bytes than arrived", std::to_string(framer.consumed()));
  return framer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<svc::host::RequestFramer> framed = frame(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!framed) return 0;
  const Poco::Net::HTTPRequest& head = framed->request();
  std::string body = framed->takeBody();
  if (body.size() > kMaxBodyBytes) fail("a body over the limit was framed", std::to_string(body.size()));

  try {
    std::string path;
    std::string query;
    try {
      const Poco::URI uri(head.getURI());
      path = uri.getPath();
      query = uri.getRawQuery();
    } catch (const Poco::SyntaxException&) {
      throw svc::HttpError(400, "The request target is not a valid URI");
    }
    serve(head.getMethod(), path, std::move(query), head, std::move(body));
  } catch (const svc::HttpError& error) {
    checkAnswer(error, error.problem().errors.size());
  } catch (const svc::Invalid& error) {
    checkAnswer(error, error.errors().size());
  }
  return 0;
}
