#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "svc/log.h"
#include "svc/upstream.h"

namespace svc::host {

/// The host's clients of other services, one per upstream a plugin asked for.
class UpstreamClients final : public Upstreams {
 public:
  explicit UpstreamClients(const Logger& logger) : logger_(logger) {}
  Upstream& upstream(std::string_view name, std::string_view baseUrl, std::chrono::milliseconds timeout) override;

 private:
  const Logger& logger_;
  std::vector<std::unique_ptr<Upstream>> upstreams_;
};

}  // namespace svc::host
