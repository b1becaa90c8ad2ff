#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "settings.h"
#include "svc/log.h"
#include "svc/upstream.h"
#include "upstream_client.h"

namespace svc::host {

/// The host's clients of other services, one per upstream name, all with the policy of [upstreams].
class UpstreamClients final : public Upstreams {
 public:
  UpstreamClients(const UpstreamSettings& settings, const Logger& logger) : settings_(settings), logger_(logger) {}
  /// Asking again for a name gives the same client (with this timeout); std::invalid_argument for
  /// a URL other than http://host:port, a timeout that is not positive, or a name already given
  /// to another URL.
  Upstream& upstream(std::string_view name, std::string_view baseUrl, std::chrono::milliseconds timeout) override;
  /// Appends the upstreams' metric families (see upstream_metrics.h).
  void render(std::string& out) const;
  /// Stops every client (UpstreamClient::stop): before what their completions use goes away.
  void stop();

 private:
  UpstreamClient& client(std::string_view name, const UpstreamEndpoint& endpoint);

  const UpstreamSettings settings_;
  const Logger& logger_;
  mutable std::mutex mutex_;  ///< a plugin may ask for one while /metrics is rendered
  std::vector<std::unique_ptr<UpstreamClient>> clients_;
  std::vector<std::unique_ptr<UpstreamHandle>> handles_;
};

}  // namespace svc::host
