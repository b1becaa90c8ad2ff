#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "prometheus_text.h"

namespace svc::host {

/// How a call to an upstream ended (the outcome label of upstream_requests_total).
enum class UpstreamOutcome {
  Ok,           ///< an answer below 400
  ClientError,  ///< a 4xx answer, given to the caller
  ServerError,  ///< a 5xx answer, after the retries allowed
  Timeout,      ///< no answer by the call's deadline
  Unavailable,  ///< no connection, or it broke (refused, reset, closed mid-answer)
  BreakerOpen,  ///< refused by the open circuit breaker, nothing sent
  Rejected,     ///< refused at once: too many calls in flight, or the service is stopping
};
inline constexpr std::size_t kUpstreamOutcomes = 7;

/// What /metrics shows of one upstream.
struct UpstreamSnapshot {
  std::string name;
  std::array<std::uint64_t, kUpstreamOutcomes> calls{};
  std::array<std::uint64_t, prometheus::kDurationBuckets> durations{};  ///< per bucket, not cumulative
  double durationSeconds = 0;
  std::uint64_t retries = 0;
  int breakerState = 0;
};

/// One upstream's counters: relaxed atomics, so recording takes no lock.
class UpstreamMetrics {
 public:
  void recordCall(UpstreamOutcome outcome) noexcept;
  /// The time a call took, from call() to its completion, for calls that were not refused at once.
  void recordDuration(std::chrono::nanoseconds duration) noexcept;
  void recordRetry() noexcept { retries_.fetch_add(1, std::memory_order_relaxed); }
  /// The counters, into `snapshot`.
  void read(UpstreamSnapshot& snapshot) const;

 private:
  std::array<std::atomic<std::uint64_t>, kUpstreamOutcomes> calls_{};
  std::array<std::atomic<std::uint64_t>, prometheus::kDurationBuckets> durations_{};
  std::atomic<std::uint64_t> nanos_{0};
  std::atomic<std::uint64_t> retries_{0};
};

/// Appends upstream_requests_total, upstream_request_duration_seconds, upstream_breaker_state and
/// upstream_retries_total for `upstreams` (nothing when there are none).
void renderUpstreamMetrics(std::string& out, const std::vector<UpstreamSnapshot>& upstreams);

/// The metric family names renderUpstreamMetrics writes (no plugin may take them).
std::vector<std::string> upstreamMetricNames();

}  // namespace svc::host
