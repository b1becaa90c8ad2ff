#include "upstream_clients.h"

#include <stdexcept>

namespace svc::host {

Upstream& UpstreamClients::upstream(std::string_view name, std::string_view baseUrl,
                                    std::chrono::milliseconds timeout) {
  const std::string named = "upstream " + std::string(name) + ": ";
  if (name.empty()) throw std::invalid_argument("an upstream needs a name");
  if (timeout.count() <= 0) throw std::invalid_argument(named + "the timeout must be positive");
  UpstreamEndpoint endpoint;
  try {
    endpoint = UpstreamEndpoint::parse(baseUrl);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(named + error.what());
  }
  std::lock_guard lock(mutex_);
  handles_.push_back(std::make_unique<UpstreamHandle>(client(name, endpoint), timeout));
  return *handles_.back();
}

UpstreamClient& UpstreamClients::client(std::string_view name, const UpstreamEndpoint& endpoint) {
  for (const auto& client : clients_) {
    if (client->name() != name) continue;
    if (client->endpoint() == endpoint) return *client;
    throw std::invalid_argument("upstream " + std::string(name) + " is already another URL's name");
  }
  clients_.push_back(std::make_unique<UpstreamClient>(std::string(name), endpoint, settings_, logger_));
  logger_.info("Upstream client ready", {{"upstream", name},
                                         {"host", endpoint.host},
                                         {"port", static_cast<std::int64_t>(endpoint.port)}});
  return *clients_.back();
}

void UpstreamClients::render(std::string& out) const {
  std::vector<UpstreamSnapshot> snapshots;
  {
    std::lock_guard lock(mutex_);
    for (const auto& client : clients_) snapshots.push_back(client->snapshot());
  }
  renderUpstreamMetrics(out, snapshots);
}

void UpstreamClients::stop() {
  std::vector<UpstreamClient*> clients;
  {
    std::lock_guard lock(mutex_);
    for (const auto& client : clients_) clients.push_back(client.get());
  }
  for (UpstreamClient* client : clients) client->stop();
}

}  // namespace svc::host
