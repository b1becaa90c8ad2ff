// GET /metrics: Prometheus text with the HTTP, pool and plugin metrics, on each backend.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "support/service_fixture.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

constexpr const char* kValidOrder = R"({"user_id":1,"product_id":2,"quantity":3})";

class OrdersMetrics : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    startServer();
  }

  std::string scrape() {
    const HttpResponse response = client().get("/metrics");
    EXPECT_EQ(response.status, 200);
    return response.body;
  }
};

}  // namespace

TEST_F(OrdersMetrics, ServesPrometheusTextWithHelpAndTypeForEveryFamily) {
  client().postJson("/orders", kValidOrder);
  const HttpResponse response = client().get("/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const auto& [family, type] : std::vector<std::pair<std::string, std::string>>{
           {"http_requests_total", "counter"},
           {"http_request_duration_seconds", "histogram"},
           {"http_connections_evicted_total", "counter"},
           {"db_pool_connections", "gauge"},
           {"db_pool_size", "gauge"},
           {"db_pool_waits_total", "counter"},
           {"db_pool_timeouts_total", "counter"},
           {"orders_created_total", "counter"}}) {
    SCOPED_TRACE(family);
    const std::size_t help = response.body.find("# HELP " + family + " ");
    const std::size_t typeLine = response.body.find("\n# TYPE " + family + " " + type + "\n");
    ASSERT_NE(help, std::string::npos);
    ASSERT_NE(typeLine, std::string::npos);
    EXPECT_LT(help, typeLine);
  }
}

TEST_F(OrdersMetrics, CountsRequestsByRouteTemplateMethodAndStatusNeverByRawPath) {
  HttpClient http = client();
  ASSERT_EQ(http.postJson("/orders", kValidOrder).status, 201);
  ASSERT_EQ(http.postJson("/api/v1/orders", kValidOrder).status, 201);
  ASSERT_EQ(http.get("/orders/1").status, 200);
  ASSERT_EQ(http.get("/orders/987654").status, 404);
  ASSERT_EQ(http.get("/no/such/path").status, 404);
  ASSERT_EQ(http.request("BREW", "/orders/1").status, 405);
  ASSERT_EQ(http.request("HEAD", "/health").status, 200);

  const std::string page = scrape();
  EXPECT_EQ(metricSample(page, requestsSeries("POST", "/orders", "201")), 1);
  EXPECT_EQ(metricSample(page, requestsSeries("POST", "/api/v1/orders", "201")), 1);
  EXPECT_EQ(metricSample(page, requestsSeries("GET", "/orders/{id}", "200")), 1);
  EXPECT_EQ(metricSample(page, requestsSeries("GET", "/orders/{id}", "404")), 1);
  EXPECT_EQ(metricSample(page, requestsSeries("GET", "unmatched", "404")), 1);
  EXPECT_EQ(metricSample(page, requestsSeries("OTHER", "/orders/{id}", "405")), 1);
  EXPECT_EQ(metricSample(page, requestsSeries("HEAD", "/health", "200")), 1);
  EXPECT_EQ(metricSample(page, "orders_created_total"), 2);
  EXPECT_EQ(page.find("/orders/987654"), std::string::npos) << "no raw path or id in a label";
  EXPECT_EQ(page.find("/no/such/path"), std::string::npos);
  EXPECT_EQ(page.find("BREW"), std::string::npos);
}

TEST_F(OrdersMetrics, CountsRequestsRejectedBeforeRoutingAsUnmatched) {
  EXPECT_EQ(statusOf(rawExchange(port_, "GARBAGE\r\n\r\n")), 400);
  expectProblem(client().postJson("/echo", "[" + std::string(17000, ' ') + "]"), 413);
  const std::string page = scrape();
  EXPECT_EQ(metricSample(page, requestsSeries("OTHER", "unmatched", "400")), 1) << page;
  EXPECT_EQ(metricSample(page, requestsSeries("POST", "unmatched", "413")), 1) << page;
}

TEST_F(OrdersMetrics, KeepsACumulativeDurationHistogramPerRouteAndMethod) {
  HttpClient http = client();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(http.get("/health").status, 200);
  const std::string page = scrape();
  const std::string labels = R"(method="GET",route="/health")";
  EXPECT_EQ(metricSample(page, "http_request_duration_seconds_count{" + labels + "}"), 5);
  EXPECT_EQ(metricSample(page, "http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"}"), 5);
  EXPECT_GT(metricSample(page, "http_request_duration_seconds_sum{" + labels + "}").value_or(0), 0);
  double previous = 0;
  for (const char* bound : {"0.0005", "0.001", "0.005", "0.05", "0.5", "1", "10", "+Inf"}) {
    SCOPED_TRACE(bound);
    const auto count = metricSample(page, "http_request_duration_seconds_bucket{" + labels + ",le=\"" + bound + "\"}");
    ASSERT_TRUE(count);
    EXPECT_GE(*count, previous);
    previous = *count;
  }
}

TEST_F(OrdersMetrics, ReportsTheConnectionPool) {
  ASSERT_EQ(client().postJson("/orders", kValidOrder).status, 201);
  const std::string page = scrape();
  EXPECT_EQ(metricSample(page, "db_pool_size"), 8);
  EXPECT_EQ(metricSample(page, "db_pool_connections{state=\"in_use\"}"), 0);
  EXPECT_GE(metricSample(page, "db_pool_connections{state=\"idle\"}").value_or(0), 1);
  EXPECT_EQ(metricSample(page, "db_pool_waits_total"), 0);
  EXPECT_EQ(metricSample(page, "db_pool_timeouts_total"), 0);
}

TEST_F(OrdersMetrics, CountsWaitsForAConnectionWhenThePoolIsTooSmall) {
  stopServer();
  config_->set("storage.pool_size", "1").set("orders.concurrent_reads", "4");
  startServer();
  ASSERT_EQ(client().postJson("/orders", kValidOrder).status, 201);
  std::atomic<bool> waited = false;
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      HttpClient http = client();
      const auto until = std::chrono::steady_clock::now() + 10s;
      while (!waited && std::chrono::steady_clock::now() < until) http.get("/orders/1");
    });
  }
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!waited && std::chrono::steady_clock::now() < until) {
    waited = metricSample(scrape(), "db_pool_waits_total").value_or(0) > 0;
    std::this_thread::sleep_for(50ms);
  }
  for (std::thread& reader : readers) reader.join();
  EXPECT_TRUE(waited) << "8 concurrent readers never waited for the one connection";
  EXPECT_EQ(metricSample(scrape(), "db_pool_size"), 1);
}
