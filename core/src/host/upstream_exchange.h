#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>

#include "svc/upstream.h"
#include "upstream_policy.h"

/// One HTTP exchange with an upstream over a pooled keep-alive connection, bounded by a deadline.
namespace svc::host {

/// "http://host:port" (a trailing "/" allowed; port 80 when not given). std::invalid_argument
/// for anything else: another scheme, user info, a path, a query or a fragment.
struct UpstreamEndpoint {
  std::string host;
  std::uint16_t port = 80;

  static UpstreamEndpoint parse(std::string_view baseUrl);
  bool operator==(const UpstreamEndpoint&) const = default;
};

/// The keep-alive connections to one upstream that no call is using, the most recently used
/// first. One whose peer has closed it meanwhile is dropped when taken.
class UpstreamConnections {
 public:
  explicit UpstreamConnections(UpstreamEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  /// An idle connection, or a new session that connects when first used.
  std::unique_ptr<Poco::Net::HTTPClientSession> take();
  /// A connection whose last answer was read to its end and that the upstream keeps open.
  void giveBack(std::unique_ptr<Poco::Net::HTTPClientSession> session);

 private:
  UpstreamEndpoint endpoint_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle_;
};

/// What one attempt came to.
struct Attempt {
  enum class Kind { Answered, TimedOut, Failed };
  Kind kind = Kind::Failed;
  UpstreamResponse response;  ///< when Answered
  std::string error;          ///< otherwise: what went wrong
};

/// The headers every call carries (svc::currentRequest at the time of the call).
struct Correlation {
  std::string requestId;
  std::string traceParent;  ///< "" for none
};

/// Sends `request` on a connection of `connections` and reads the answer, every step bounded by
/// what is left until `deadline`; the connection goes back to the pool only when it is clean.
Attempt exchange(UpstreamConnections& connections, const UpstreamRequest& request, const Correlation& correlation,
                 UpstreamClock::time_point deadline);

}  // namespace svc::host
