#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "svc/metrics.h"

namespace svc::host {

/// The counters plugins registered through PluginContext::metrics.
class MetricsRegistry final : public Metrics {
 public:
  /// `reservedNames`: the host's own metric families, which no plugin may register.
  explicit MetricsRegistry(std::vector<std::string> reservedNames) : reserved_(std::move(reservedNames)) {}

  Counter& counter(std::string_view name, std::string_view help) override;
  /// Appends every counter in the Prometheus text format, in the order they were registered.
  void render(std::string& out) const;

 private:
  struct NamedCounter {
    NamedCounter(std::string_view counterName, std::string_view counterHelp) : name(counterName), help(counterHelp) {}
    std::string name;
    std::string help;
    Counter counter;
  };

  const std::vector<std::string> reserved_;
  mutable std::mutex mutex_;  // registration and rendering only; increments never take it
  std::deque<NamedCounter> counters_;  // a deque: references handed out stay valid as it grows
};

}  // namespace svc::host
