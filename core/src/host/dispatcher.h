#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include <Poco/Net/HTTPRequest.h>

#include "exchange.h"
#include "router.h"
#include "svc/context.h"
#include "svc/http.h"
#include "svc/log.h"

namespace svc::host {

/// Turns a request into a response: finds the route, runs the handler, and turns every failure
/// into a problem document, logging the cause of every 5xx. Knows nothing of sockets.
class Dispatcher {
 public:
  Dispatcher(const Router& router, const Logger& logger, std::chrono::milliseconds requestBudget)
      : router_(router), logger_(logger), requestBudget_(requestBudget) {}

  /// A request looked up in the router, before anything runs.
  struct Routing {
    std::string path;  ///< the decoded path (the raw target when it cannot be decoded)
    std::string query;
    bool validTarget = true;
    RouteLookup lookup;
    std::shared_ptr<const RequestContext> context;

    /// Whether answering may wait on something (a handler that uses the database): such a
    /// request runs on a worker thread, every other one where it was read.
    bool mayBlock() const { return validTarget && lookup.route != nullptr && lookup.route->mayBlock; }
    /// Whether the route's handler answers through a Reply.
    bool async() const { return validTarget && lookup.route != nullptr && lookup.route->asyncHandler; }
  };

  /// The level of the line that says a request of the pattern `patternId` was answered `status`:
  /// the polls of probes (health, metrics) that succeed are DEBUG, so that a probe every few
  /// seconds does not bury the requests served; every other answer is INFO.
  LogLevel handledLevel(std::size_t patternId, int status) const {
    return status < 400 && router_.isProbe(patternId) ? LogLevel::Debug : LogLevel::Info;
  }

  struct Dispatched {
    Response response;
    std::string path;  ///< the decoded path, for the log (the raw target when it cannot be decoded)
    std::size_t patternId = kNoPattern;  ///< the route pattern the path matched, for the metrics
  };

  /// Looks `request` up; its context's budget runs from `arrived`.
  Routing route(const Poco::Net::HTTPRequest& request, std::chrono::steady_clock::time_point arrived) const;
  /// The answer to `request`, routed by `route`, whose body the connection has read.
  Dispatched dispatch(const Poco::Net::HTTPRequest& request, Routing routing, std::string body) const;
  /// Calls the asynchronous handler of `routing` with a Reply of `exchange`; what it throws at
  /// once fails the exchange. `request` must outlive the exchange.
  void dispatchAsync(const Request& request, const Routing& routing, std::shared_ptr<detail::Exchange> exchange) const;
  /// The routed request a handler sees (for an asynchronous one, kept until it replies).
  Request routedRequest(const Poco::Net::HTTPRequest& request, Routing& routing, std::string body) const;
  /// The problem document answering `error`, logged when it is a 5xx.
  Response answerFailure(std::exception_ptr error, const std::string& method, const std::string& path) const;

 private:
  Response answer(const Poco::Net::HTTPRequest& request, Routing& routing, std::string body) const;
  Response internalError(const std::string& method, const std::string& path, const std::string& cause) const;

  const Router& router_;
  const Logger& logger_;
  const std::chrono::milliseconds requestBudget_;
};

/// The request id of a request with these headers: a well-formed X-Request-Id, else the trace id
/// of a well-formed W3C traceparent, else a new random one.
std::string requestIdOf(const Poco::Net::HTTPRequest& request);
/// A new traceparent of the trace `request` is part of (a child of its traceparent), or "".
std::string traceParentOf(const Poco::Net::HTTPRequest& request);
/// A new random request id, for work that no request asked for.
std::string newRequestId();

}  // namespace svc::host
