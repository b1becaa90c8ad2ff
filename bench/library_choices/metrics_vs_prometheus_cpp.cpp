// Item 7 evaluation: the host's HTTP metrics (core/src/host/http_metrics.cpp) against prometheus-cpp 1.0.1
// (Debian prometheus-cpp-dev): cost of recording one request from 2 threads, and of rendering the page.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "http_metrics.h"

using Clock = std::chrono::steady_clock;
static const std::vector<std::string> kRoutes{"/orders", "/orders/{id}", "/orders/{id}/cancel", "/api/v1/orders",
                                              "/api/v1/orders/{id}", "/api/v1/orders/{id}/cancel", "/health",
                                              "/health/ready", "/metrics", "/openapi.json"};
static const int kStatuses[] = {200, 201, 404, 422, 503};
static const char* kMethods[] = {"GET", "POST"};
constexpr int kPerThread = 2'000'000;

template <class Record>
double nanosPerRecord(Record record) {
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) record(t, i);
    });
  for (auto& thread : threads) thread.join();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / (2.0 * kPerThread);
}

int main() {
  std::vector<double> bucketBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  for (int round = 0; round < 3; ++round) {
    svc::host::HttpMetrics ours(std::vector<std::string>(kRoutes.begin(), kRoutes.end()));
    const double oursNs = nanosPerRecord([&](int t, int i) {
      ours.record(kMethods[(i + t) & 1], i % kRoutes.size(), kStatuses[i % 5], std::chrono::nanoseconds(100000 + i % 7 * 1000000));
    });
    auto registry = std::make_shared<prometheus::Registry>();
    auto& requests = prometheus::BuildCounter().Name("http_requests_total").Help("HTTP requests answered").Register(*registry);
    auto& durations = prometheus::BuildHistogram().Name("http_request_duration_seconds").Help("Time").Register(*registry);
    const double theirsNs = nanosPerRecord([&](int t, int i) {
      const std::string& route = kRoutes[i % kRoutes.size()];
      const char* method = kMethods[(i + t) & 1];
      requests.Add({{"method", method}, {"route", route}, {"status", std::to_string(kStatuses[i % 5])}}).Increment();
      durations.Add({{"method", method}, {"route", route}}, bucketBounds).Observe((100000 + i % 7 * 1000000) / 1e9);
    });
    auto start = Clock::now();
    std::string page;
    for (int i = 0; i < 1000; ++i) { page.clear(); ours.render(page); }
    const double oursRenderUs = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / 1000;
    start = Clock::now();
    std::string theirPage;
    prometheus::TextSerializer serializer;
    for (int i = 0; i < 1000; ++i) theirPage = serializer.Serialize(registry->Collect());
    const double theirsRenderUs = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / 1000;
    std::printf("round %d: record ours %.1f ns, prometheus-cpp %.1f ns (%.1fx); render ours %.1f us (%zu B), prometheus-cpp %.1f us (%zu B)\n",
                round, oursNs, theirsNs, theirsNs / oursNs, oursRenderUs, page.size(), theirsRenderUs, theirPage.size());
  }
}
