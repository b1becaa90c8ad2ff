#include "metrics_registry.h"

#include <algorithm>
#include <stdexcept>

#include "prometheus_text.h"

namespace svc::host {

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help) {
  if (!prometheus::isMetricName(name)) {
    throw std::invalid_argument("\"" + std::string(name) + "\" is not a Prometheus metric name");
  }
  if (std::find(reserved_.begin(), reserved_.end(), name) != reserved_.end()) {
    throw std::invalid_argument("metric " + std::string(name) + " is the host's own");
  }
  std::lock_guard lock(mutex_);
  for (NamedCounter& existing : counters_) {
    if (existing.name == name) return existing.counter;
  }
  return counters_.emplace_back(name, help).counter;
}

void MetricsRegistry::render(std::string& out) const {
  std::lock_guard lock(mutex_);
  for (const NamedCounter& named : counters_) {
    prometheus::writeFamily(out, named.name, "counter", named.help);
    prometheus::writeSample(out, named.name, "", named.counter.value());
  }
}

}  // namespace svc::host
