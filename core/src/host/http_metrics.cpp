#include "http_metrics.h"

#include <algorithm>
#include <array>

#include "prometheus_text.h"

namespace svc::host {

namespace {

constexpr std::array<std::string_view, 8> kMethods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

// The statuses counted under their own label; any other is counted as its class ("4xx").
constexpr std::array<int, 30> kStatuses{200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 406, 408, 409,
                                        410, 411, 412, 413, 414, 415, 422, 429, 431, 500, 501, 502, 503, 504, 505};
constexpr std::array<std::string_view, 6> kStatusClasses{"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
constexpr std::size_t kStatusSlots = kStatuses.size() + kStatusClasses.size();

constexpr std::size_t kBucketSlots = prometheus::kDurationBuckets;

// Status code -> slot, for every code from 0 to 599, built at compile time.
constexpr std::array<std::uint8_t, 600> statusSlots() {
  std::array<std::uint8_t, 600> slots{};
  for (std::size_t code = 0; code < slots.size(); ++code) {
    const bool classed = code >= 100;
    slots[code] = static_cast<std::uint8_t>(kStatuses.size() + (classed ? code / 100 - 1 : kStatusClasses.size() - 1));
  }
  for (std::size_t i = 0; i < kStatuses.size(); ++i) slots[static_cast<std::size_t>(kStatuses[i])] = static_cast<std::uint8_t>(i);
  return slots;
}
constexpr auto kStatusSlotOf = statusSlots();

std::size_t statusSlot(int status) noexcept {
  if (status < 0 || status >= static_cast<int>(kStatusSlotOf.size())) return kStatusSlots - 1;
  return kStatusSlotOf[static_cast<std::size_t>(status)];
}

std::string statusLabel(std::size_t slot) {
  return slot < kStatuses.size() ? std::to_string(kStatuses[slot]) : std::string(kStatusClasses[slot - kStatuses.size()]);
}

std::size_t methodSlot(std::string_view method) noexcept {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) return i;
  }
  return kMethods.size() - 1;
}

std::unique_ptr<std::atomic<std::uint64_t>[]> zeroedCounters(std::size_t count) {
  auto counters = std::make_unique<std::atomic<std::uint64_t>[]>(count);
  for (std::size_t i = 0; i < count; ++i) counters[i].store(0, std::memory_order_relaxed);
  return counters;
}

std::uint64_t read(const std::atomic<std::uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }

}  // namespace

HttpMetrics::HttpMetrics(std::vector<std::string> routePatterns) : routes_(std::move(routePatterns)) {
  routes_.emplace_back("unmatched");
  const std::size_t series = routes_.size() * kMethods.size();
  requests_ = zeroedCounters(series * kStatusSlots);
  buckets_ = zeroedCounters(series * kBucketSlots);
  nanos_ = zeroedCounters(series);
}

std::vector<std::string> HttpMetrics::familyNames() {
  return {"http_requests_total", "http_request_duration_seconds", "http_request_duration_seconds_bucket",
          "http_request_duration_seconds_sum", "http_request_duration_seconds_count",
          "http_connections_evicted_total"};
}

std::size_t HttpMetrics::routeSlot(std::size_t routeId) const noexcept {
  return routeId < routes_.size() - 1 ? routeId : routes_.size() - 1;
}

void HttpMetrics::record(std::string_view method, std::size_t routeId, int status,
                         std::chrono::nanoseconds duration) noexcept {
  const std::size_t series = routeSlot(routeId) * kMethods.size() + methodSlot(method);
  requests_[series * kStatusSlots + statusSlot(status)].fetch_add(1, std::memory_order_relaxed);
  buckets_[series * kBucketSlots + prometheus::durationBucket(duration)].fetch_add(1, std::memory_order_relaxed);
  nanos_[series].fetch_add(static_cast<std::uint64_t>(duration.count()), std::memory_order_relaxed);
}

void HttpMetrics::render(std::string& out) const {
  renderRequests(out);
  renderDurations(out);
  renderEvictions(out);
}

std::string HttpMetrics::labels(std::size_t route, std::size_t method) const {
  return "method=\"" + std::string(kMethods[method]) + "\",route=\"" + prometheus::escapeLabelValue(routes_[route]) + "\"";
}

void HttpMetrics::renderRequests(std::string& out) const {
  prometheus::writeFamily(out, "http_requests_total", "counter", "HTTP requests answered, by method, route and status.");
  for (std::size_t route = 0; route < routes_.size(); ++route) {
    for (std::size_t method = 0; method < kMethods.size(); ++method) {
      const std::size_t series = route * kMethods.size() + method;
      for (std::size_t status = 0; status < kStatusSlots; ++status) {
        const std::uint64_t count = read(requests_[series * kStatusSlots + status]);
        if (count == 0) continue;
        const std::string labelSet = "{" + labels(route, method) + ",status=\"" + statusLabel(status) + "\"}";
        prometheus::writeSample(out, "http_requests_total", labelSet, count);
      }
    }
  }
}

void HttpMetrics::renderDurations(std::string& out) const {
  prometheus::writeFamily(out, "http_request_duration_seconds", "histogram",
                          "Time from a request's first bytes to its response being ready to send, by method and route.");
  for (std::size_t route = 0; route < routes_.size(); ++route) {
    for (std::size_t method = 0; method < kMethods.size(); ++method) {
      renderHistogram(out, route, method);
    }
  }
}

void HttpMetrics::renderHistogram(std::string& out, std::size_t route, std::size_t method) const {
  const std::size_t series = route * kMethods.size() + method;
  std::array<std::uint64_t, kBucketSlots> counts{};
  for (std::size_t bucket = 0; bucket < kBucketSlots; ++bucket) counts[bucket] = read(buckets_[series * kBucketSlots + bucket]);
  if (std::all_of(counts.begin(), counts.end(), [](std::uint64_t count) { return count == 0; })) return;
  const double seconds = static_cast<double>(read(nanos_[series])) / 1e9;
  prometheus::writeDurationHistogram(out, "http_request_duration_seconds", labels(route, method), counts, seconds);
}

void HttpMetrics::renderEvictions(std::string& out) const {
  prometheus::writeFamily(out, "http_connections_evicted_total", "counter",
                          "Idle keep-alive connections closed to make room for new ones at max_connections.");
  prometheus::writeSample(out, "http_connections_evicted_total", "", read(evictions_));
}

}  // namespace svc::host
