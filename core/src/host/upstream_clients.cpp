#include "upstream_clients.h"

#include <stdexcept>

namespace svc::host {

Upstream& UpstreamClients::upstream(std::string_view name, std::string_view, std::chrono::milliseconds) {
  throw std::logic_error("no client for upstream " + std::string(name) + " yet");
}

}  // namespace svc::host
