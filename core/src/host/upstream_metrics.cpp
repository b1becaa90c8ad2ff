#include "upstream_metrics.h"

namespace svc::host {

namespace {

constexpr std::array<std::string_view, kUpstreamOutcomes> kOutcomeLabels{
    "ok", "client_error", "server_error", "timeout", "unavailable", "breaker_open", "rejected"};

std::string upstreamLabel(const UpstreamSnapshot& upstream) {
  return "upstream=\"" + prometheus::escapeLabelValue(upstream.name) + "\"";
}

void renderRequests(std::string& out, const std::vector<UpstreamSnapshot>& upstreams) {
  prometheus::writeFamily(out, "upstream_requests_total", "counter",
                          "Calls to other services, by upstream and how they ended.");
  for (const UpstreamSnapshot& upstream : upstreams) {
    for (std::size_t outcome = 0; outcome < kUpstreamOutcomes; ++outcome) {
      const std::string labels =
          "{" + upstreamLabel(upstream) + ",outcome=\"" + std::string(kOutcomeLabels[outcome]) + "\"}";
      prometheus::writeSample(out, "upstream_requests_total", labels, upstream.calls[outcome]);
    }
  }
}

void renderDurations(std::string& out, const std::vector<UpstreamSnapshot>& upstreams) {
  prometheus::writeFamily(out, "upstream_request_duration_seconds", "histogram",
                          "Time from a call to another service to its completion, retries included, by upstream.");
  for (const UpstreamSnapshot& upstream : upstreams) {
    prometheus::writeDurationHistogram(out, "upstream_request_duration_seconds", upstreamLabel(upstream),
                                       upstream.durations, upstream.durationSeconds);
  }
}

void renderBreakers(std::string& out, const std::vector<UpstreamSnapshot>& upstreams) {
  prometheus::writeFamily(out, "upstream_breaker_state", "gauge",
                          "Circuit breaker of each upstream: 0 closed, 1 half-open, 2 open.");
  for (const UpstreamSnapshot& upstream : upstreams) {
    prometheus::writeSample(out, "upstream_breaker_state", "{" + upstreamLabel(upstream) + "}",
                            static_cast<std::uint64_t>(upstream.breakerState));
  }
}

void renderRetries(std::string& out, const std::vector<UpstreamSnapshot>& upstreams) {
  prometheus::writeFamily(out, "upstream_retries_total", "counter", "Calls to other services sent again, by upstream.");
  for (const UpstreamSnapshot& upstream : upstreams) {
    prometheus::writeSample(out, "upstream_retries_total", "{" + upstreamLabel(upstream) + "}", upstream.retries);
  }
}

}  // namespace

void UpstreamMetrics::recordCall(UpstreamOutcome outcome) noexcept {
  calls_[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
}

void UpstreamMetrics::recordDuration(std::chrono::nanoseconds duration) noexcept {
  durations_[prometheus::durationBucket(duration)].fetch_add(1, std::memory_order_relaxed);
  nanos_.fetch_add(static_cast<std::uint64_t>(duration.count()), std::memory_order_relaxed);
}

void UpstreamMetrics::read(UpstreamSnapshot& snapshot) const {
  for (std::size_t i = 0; i < calls_.size(); ++i) snapshot.calls[i] = calls_[i].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < durations_.size(); ++i) {
    snapshot.durations[i] = durations_[i].load(std::memory_order_relaxed);
  }
  snapshot.durationSeconds = static_cast<double>(nanos_.load(std::memory_order_relaxed)) / 1e9;
  snapshot.retries = retries_.load(std::memory_order_relaxed);
}

void renderUpstreamMetrics(std::string& out, const std::vector<UpstreamSnapshot>& upstreams) {
  if (upstreams.empty()) return;
  renderRequests(out, upstreams);
  renderDurations(out, upstreams);
  renderBreakers(out, upstreams);
  renderRetries(out, upstreams);
}

std::vector<std::string> upstreamMetricNames() {
  return {"upstream_requests_total",
          "upstream_request_duration_seconds",
          "upstream_request_duration_seconds_bucket",
          "upstream_request_duration_seconds_sum",
          "upstream_request_duration_seconds_count",
          "upstream_breaker_state",
          "upstream_retries_total"};
}

}  // namespace svc::host
