#pragma once

#include <string>

#include <Poco/Net/HTTPServerRequest.h>

#include "router.h"
#include "svc/http.h"
#include "svc/log.h"

namespace svc::host {

/// Turns a request into a response: finds the route, runs the handler, and turns every failure
/// into a problem document, logging the cause of every 5xx. Knows nothing of sockets.
class Dispatcher {
 public:
  Dispatcher(const Router& router, const Logger& logger) : router_(router), logger_(logger) {}

  struct Dispatched {
    Response response;
    std::string path;  ///< the decoded path, for the log (the raw target when it cannot be decoded)
    std::size_t patternId = kNoPattern;  ///< the route pattern the path matched, for the metrics
  };

  /// The answer to `request`, whose body the connection has read.
  Dispatched dispatch(const Poco::Net::HTTPServerRequest& request, std::string body) const;

 private:
  Response route(const Poco::Net::HTTPServerRequest& request, std::string body, Dispatched& result) const;
  Response internalError(const std::string& method, const std::string& path, const std::string& cause) const;

  const Router& router_;
  const Logger& logger_;
};

}  // namespace svc::host
