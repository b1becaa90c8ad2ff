#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace svc::host {

/// http_requests_total{method,route,status}, http_request_duration_seconds{method,route} and
/// http_connections_evicted_total.
/// Every label combination is a slot of a fixed table allocated at start-up, so recording a
/// request is a few relaxed atomic increments: no lock, no allocation, no map lookup. Label values
/// are bounded: routes are the registered patterns plus "unmatched", methods outside the usual
/// ones are "OTHER", statuses outside a fixed list are their class ("4xx").
class HttpMetrics {
 public:
  /// The route id of requests no route matched (404, a target that is not a URI, transport rejections).
  static constexpr std::size_t kUnmatched = static_cast<std::size_t>(-1);

  /// `routePatterns[i]` is the label of route id i.
  explicit HttpMetrics(std::vector<std::string> routePatterns);

  void record(std::string_view method, std::size_t routeId, int status, std::chrono::nanoseconds duration) noexcept;
  /// An idle keep-alive connection was closed to make room for a new one at max_connections.
  void recordEviction() noexcept { evictions_.fetch_add(1, std::memory_order_relaxed); }
  /// Appends its families in the Prometheus text format; label combinations never seen are left out.
  void render(std::string& out) const;

  /// The metric family names this class renders (no plugin may take them).
  static std::vector<std::string> familyNames();

 private:
  std::size_t routeSlot(std::size_t routeId) const noexcept;
  void renderRequests(std::string& out) const;
  void renderDurations(std::string& out) const;
  void renderEvictions(std::string& out) const;
  void renderHistogram(std::string& out, std::size_t route, std::size_t method) const;
  std::string labels(std::size_t route, std::size_t method) const;

  std::vector<std::string> routes_;  ///< labels by route slot; the last is "unmatched"
  std::unique_ptr<std::atomic<std::uint64_t>[]> requests_;  ///< [route][method][status]
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;   ///< [route][method][bucket], not cumulative
  std::unique_ptr<std::atomic<std::uint64_t>[]> nanos_;     ///< [route][method]: the histogram's sum
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace svc::host
