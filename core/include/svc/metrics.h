#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace svc {

/// A count that only goes up, incremented from any thread without a lock. Aligned to a cache
/// line so that counters incremented by different threads do not slow each other down.
class alignas(64) Counter {
 public:
  void increment(std::uint64_t by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// Where plugins register their metrics; the host serves them at GET /metrics (Prometheus text).
class Metrics {
 public:
  /// The counter `name`, rendered as `name` with `# HELP name help` and `# TYPE name counter`.
  /// Call it at start-up (in the factory or registerRoutes) and keep the reference: the counter
  /// lives as long as the service. Asking twice for the same name returns the same counter.
  /// Throws std::invalid_argument when `name` is not a Prometheus metric name
  /// ([a-zA-Z_:][a-zA-Z0-9_:]*) or is one of the host's own metrics.
  virtual Counter& counter(std::string_view name, std::string_view help) = 0;

 protected:
  ~Metrics() = default;
};

}  // namespace svc
