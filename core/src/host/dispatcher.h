#pragma once

#include <cstddef>
#include <string>

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "router.h"
#include "svc/http.h"
#include "svc/log.h"

namespace svc::host {

/// Turns each HTTP request into a route call: reads the body within its limit, finds the route,
/// runs the handler, and answers every failure with a problem document (never a dropped connection).
/// Logs one line per request and the cause of every 5xx.
class Dispatcher final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Dispatcher(const Router& router, const Logger& logger, std::size_t maxBodyBytes);

  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;
  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

 private:
  Response respond(Poco::Net::HTTPServerRequest& request, std::string& path) const;
  Response route(Poco::Net::HTTPServerRequest& request, std::string& path, std::string body) const;
  std::string readBody(Poco::Net::HTTPServerRequest& request) const;
  Response internalError(const std::string& method, const std::string& path, const std::string& cause) const;

  const Router& router_;
  const Logger& logger_;
  const std::size_t maxBodyBytes_;
};

}  // namespace svc::host
