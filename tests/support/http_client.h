#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/StreamSocket.h>

#include "svc/json.h"

namespace test_support {

struct HttpResponse {
  int status = 0;
  std::string reason;
  Poco::Net::NameValueCollection headers;
  std::string body;

  std::string header(const std::string& name) const { return headers.get(name, ""); }
  svc::json::Value json() const { return svc::json::parse(body); }
};

using Headers = std::map<std::string, std::string>;

/// One keep-alive HTTP/1.1 connection to the server on 127.0.0.1:`port`.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                       const Headers& headers = {});
  HttpResponse get(const std::string& target) { return request("GET", target); }
  /// POST with Content-Type: application/json.
  HttpResponse postJson(const std::string& target, const std::string& body) {
    return request("POST", target, body, {{"Content-Type", "application/json"}});
  }

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

/// Sends `bytes` on a new connection and returns everything the server sends back until it
/// closes the connection or `timeout` passes.
std::string rawExchange(std::uint16_t port, const std::string& bytes,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// The status code of the first response in raw HTTP text, or 0.
int statusOf(const std::string& rawResponse);

/// A connection to 127.0.0.1:`port` for raw HTTP; a read waits 5 s at most.
Poco::Net::StreamSocket connectTo(std::uint16_t port);
void send(Poco::Net::StreamSocket& socket, const std::string& bytes);
/// Reads `count` whole responses (each framed by its Content-Length) from `socket`, fewer if it
/// closes first.
std::vector<std::string> readResponses(Poco::Net::StreamSocket& socket, std::size_t count);

}  // namespace test_support
