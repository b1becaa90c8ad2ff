#pragma once

#include <string>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "router.h"
#include "svc/http.h"
#include "svc/log.h"

namespace svc::host {

/// Turns each request into a route call: finds the route, runs the handler, and answers every
/// failure with a problem document (never a dropped connection). Logs one line per request and
/// the cause of every 5xx.
class Dispatcher {
 public:
  Dispatcher(const Router& router, const Logger& logger) : router_(router), logger_(logger) {}

  /// Answers `request`, whose body the connection has read.
  void handle(Poco::Net::HTTPServerRequest& request, std::string body, Poco::Net::HTTPServerResponse& response) const;
  /// Answers a request that could not be read (malformed, too large, too slow); the connection closes.
  void reject(Poco::Net::HTTPServerResponse& response, int status, const std::string& detail) const;

 private:
  Response respond(Poco::Net::HTTPServerRequest& request, std::string body, std::string& path) const;
  Response route(Poco::Net::HTTPServerRequest& request, std::string body, std::string& path) const;
  Response internalError(const std::string& method, const std::string& path, const std::string& cause) const;

  const Router& router_;
  const Logger& logger_;
};

}  // namespace svc::host
