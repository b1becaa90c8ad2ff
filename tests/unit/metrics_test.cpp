#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "http_metrics.h"
#include "metrics_page.h"
#include "metrics_registry.h"
#include "prometheus_text.h"
#include "router.h"

using namespace std::chrono_literals;
using svc::host::HttpMetrics;
using svc::host::MetricsRegistry;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string rendered(const HttpMetrics& metrics) {
  std::string out;
  metrics.render(out);
  return out;
}

}  // namespace

TEST(HttpMetrics, CountsByRoutePatternMethodAndStatus) {
  HttpMetrics metrics({"/health", "/orders/{id}"});
  metrics.record("GET", 1, 200, 1ms);
  metrics.record("GET", 1, 200, 1ms);
  metrics.record("POST", 0, 405, 1ms);
  const std::string page = rendered(metrics);
  EXPECT_TRUE(contains(page, "http_requests_total{method=\"GET\",route=\"/orders/{id}\",status=\"200\"} 2\n")) << page;
  EXPECT_TRUE(contains(page, "http_requests_total{method=\"POST\",route=\"/health\",status=\"405\"} 1\n")) << page;
  EXPECT_FALSE(contains(page, "status=\"201\"")) << "combinations never seen are left out";
}

TEST(HttpMetrics, FoldsUnusualMethodsStatusesAndUnknownRoutesIntoBoundedLabels) {
  HttpMetrics metrics({"/health"});
  metrics.record("BREW", 0, 200, 1ms);
  metrics.record("", HttpMetrics::kUnmatched, 400, 1ms);
  metrics.record("GET", 7, 404, 1ms);  // not a route id: unmatched
  metrics.record("GET", 0, 299, 1ms);
  metrics.record("GET", 0, 999, 1ms);
  const std::string page = rendered(metrics);
  EXPECT_TRUE(contains(page, "{method=\"OTHER\",route=\"/health\",status=\"200\"} 1")) << page;
  EXPECT_TRUE(contains(page, "{method=\"OTHER\",route=\"unmatched\",status=\"400\"} 1")) << page;
  EXPECT_TRUE(contains(page, "{method=\"GET\",route=\"unmatched\",status=\"404\"} 1")) << page;
  EXPECT_TRUE(contains(page, "{method=\"GET\",route=\"/health\",status=\"2xx\"} 1")) << page;
  EXPECT_TRUE(contains(page, "{method=\"GET\",route=\"/health\",status=\"other\"} 1")) << page;
}

TEST(HttpMetrics, RendersACumulativeHistogramWithSumAndCount) {
  HttpMetrics metrics({"/health"});
  metrics.record("GET", 0, 200, 200us);
  metrics.record("GET", 0, 200, 3ms);
  metrics.record("GET", 0, 200, 20s);
  const std::string page = rendered(metrics);
  const std::string series = "http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=";
  EXPECT_TRUE(contains(page, "# TYPE http_request_duration_seconds histogram\n"));
  EXPECT_TRUE(contains(page, series + "\"0.0005\"} 1\n")) << page;
  EXPECT_TRUE(contains(page, series + "\"0.0025\"} 1\n")) << page;
  EXPECT_TRUE(contains(page, series + "\"0.005\"} 2\n")) << page;
  EXPECT_TRUE(contains(page, series + "\"10\"} 2\n")) << page;
  EXPECT_TRUE(contains(page, series + "\"+Inf\"} 3\n")) << page;
  EXPECT_TRUE(contains(page, "http_request_duration_seconds_sum{method=\"GET\",route=\"/health\"} 20.0032\n")) << page;
  EXPECT_TRUE(contains(page, "http_request_duration_seconds_count{method=\"GET\",route=\"/health\"} 3\n")) << page;
}

TEST(HttpMetrics, CountsIdleConnectionsEvictedAtTheCapFromZero) {
  HttpMetrics metrics({"/health"});
  EXPECT_TRUE(contains(rendered(metrics), "# TYPE http_connections_evicted_total counter\nhttp_connections_evicted_total 0\n"))
      << rendered(metrics);
  metrics.recordEviction();
  metrics.recordEviction();
  EXPECT_TRUE(contains(rendered(metrics), "\nhttp_connections_evicted_total 2\n")) << rendered(metrics);
}

TEST(MetricsRegistry, RendersPluginCountersWithHelpAndType) {
  MetricsRegistry registry(svc::host::hostMetricNames());
  svc::Counter& created = registry.counter("things_created_total", "Things \\ created.\nAll of them.");
  created.increment();
  created.increment(2);
  EXPECT_EQ(&registry.counter("things_created_total", "again"), &created) << "one name, one counter";
  std::string page;
  registry.render(page);
  EXPECT_EQ(page,
            "# HELP things_created_total Things \\\\ created.\\nAll of them.\n"
            "# TYPE things_created_total counter\n"
            "things_created_total 3\n");
}

TEST(MetricsRegistry, RefusesInvalidNamesAndTheHostsOwn) {
  MetricsRegistry registry(svc::host::hostMetricNames());
  EXPECT_THROW(registry.counter("", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("9lives", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("orders-created", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("http_requests_total", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("db_pool_size", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("http_connections_evicted_total", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("upstream_requests_total", "h"), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("ns:orders_created_total", "h"));
}

TEST(RouterPatterns, NumbersEachDistinctPatternOnceAndReportsItForAnyMethod) {
  svc::host::Router router;
  const svc::Handler ok = [](const svc::Request&) { return svc::Response::json(200, "{}"); };
  router.add("GET", "/orders/{id}", ok);
  router.add("POST", "/orders", ok);
  router.add("DELETE", "/orders/{id}", ok);
  EXPECT_EQ(router.patterns(), (std::vector<std::string>{"/orders/{id}", "/orders"}));
  EXPECT_EQ(router.find("GET", "/orders/5").patternId, 0u);
  EXPECT_EQ(router.find("PUT", "/orders/5").patternId, 0u) << "a 405 keeps the route's pattern";
  EXPECT_EQ(router.find("POST", "/orders").patternId, 1u);
  EXPECT_EQ(router.find("GET", "/nothing").patternId, svc::host::kNoPattern);
}
