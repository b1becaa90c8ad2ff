#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "svc/async.h"
#include "svc/errors.h"
#include "svc/http.h"

/// Calls to other services, only through the host's client: pooled keep-alive connections, each
/// call's deadline the shorter of its timeout and what is left of the request's budget, the
/// request id (and trace context) sent along, retries of idempotent calls within a retry budget,
/// and a circuit breaker per upstream. Nothing waits on the caller's thread.
namespace svc {

struct UpstreamRequest {
  std::string method = "GET";
  std::string target;  ///< the path and query, e.g. "/users/42"
  std::string body;
  std::string contentType;  ///< of the body; "" without one
  std::vector<Header> headers;
  /// Whether sending it again after a failure is harmless (GET, or a POST with an Idempotency-Key).
  bool idempotent = true;
};

struct UpstreamResponse {
  int status = 0;
  std::string body;
  std::vector<Header> headers;
  /// A header's value (names are case-insensitive), or nothing.
  std::optional<std::string> header(std::string_view name) const;
};

/// Another service cannot answer now: it is down, refuses connections, answers 5xx, has too many
/// calls in flight, or its breaker is open (503 with Retry-After).
class UpstreamUnavailable : public Unavailable {
 public:
  UpstreamUnavailable(std::string upstream, const std::string& detail, std::chrono::seconds retryAfter)
      : Unavailable(detail, retryAfter), upstream_(std::move(upstream)) {}
  const std::string& upstream() const noexcept { return upstream_; }

 private:
  std::string upstream_;
};

/// One other service.
class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual const std::string& name() const = 0;
  /// Sends `request`; `done` gets the response, whatever its status, or UpstreamUnavailable, or
  /// svc::TimedOut when no answer came by the call's deadline. Returns at once: `done` runs on
  /// the client's thread, or, for a call refused before anything is sent (breaker open, too many
  /// calls in flight), on the caller's thread before call() returns.
  virtual void call(UpstreamRequest request, Completion<UpstreamResponse> done) = 0;
};

/// Where a route plugin gets the clients of the services it calls (PluginContext::upstreams).
class Upstreams {
 public:
  /// The client of the service at `baseUrl` ("http://host:port"), called `name` in the log and
  /// the metrics, whose calls take at most `timeout` each. Ask at start-up (in the factory);
  /// std::invalid_argument for a URL it cannot call.
  virtual Upstream& upstream(std::string_view name, std::string_view baseUrl, std::chrono::milliseconds timeout) = 0;

 protected:
  ~Upstreams() = default;
};

}  // namespace svc
