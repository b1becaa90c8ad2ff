#pragma once

#include <string>

#include <Poco/Net/HTTPRequest.h>

#include "router.h"
#include "svc/http.h"
#include "svc/log.h"

namespace svc::host {

/// Turns a request into a response: finds the route, runs the handler, and turns every failure
/// into a problem document, logging the cause of every 5xx. Knows nothing of sockets.
class Dispatcher {
 public:
  Dispatcher(const Router& router, const Logger& logger) : router_(router), logger_(logger) {}

  /// A request looked up in the router, before anything runs.
  struct Routing {
    std::string path;  ///< the decoded path (the raw target when it cannot be decoded)
    std::string query;
    bool validTarget = true;
    RouteLookup lookup;

    /// Whether answering may wait on something (a handler that uses the database): such a
    /// request runs on a worker thread, every other one where it was read.
    bool mayBlock() const { return validTarget && lookup.route != nullptr && lookup.route->mayBlock; }
  };

  struct Dispatched {
    Response response;
    std::string path;  ///< the decoded path, for the log (the raw target when it cannot be decoded)
    std::size_t patternId = kNoPattern;  ///< the route pattern the path matched, for the metrics
  };

  Routing route(const Poco::Net::HTTPRequest& request) const;
  /// The answer to `request`, routed by `route`, whose body the connection has read.
  Dispatched dispatch(const Poco::Net::HTTPRequest& request, Routing routing, std::string body) const;

 private:
  Response answer(const Poco::Net::HTTPRequest& request, Routing& routing, std::string body) const;
  Response internalError(const std::string& method, const std::string& path, const std::string& cause) const;

  const Router& router_;
  const Logger& logger_;
};

}  // namespace svc::host
