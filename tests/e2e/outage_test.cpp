#include <gtest/gtest.h>

#include <thread>

#include "support/service_fixture.h"
#include "support/storage_outage.h"
#include "e2e/orders_support.h"

using namespace test_support;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kValidOrder = R"({"user_id":1,"product_id":2,"quantity":3})";

/// The database goes away and comes back while the service keeps running (see StorageOutage).
class OrdersDuringStorageOutage : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    config_->set("storage.reconnect_backoff_ms", "100");
    outage_ = std::make_unique<StorageOutage>(*database_, *config_);
  }

  void takeDatabaseAway() { outage_->takeDatabaseAway(); }
  void bringDatabaseBack() { outage_->bringDatabaseBack(); }

  /// Posts until an order is created; returns how long it took.
  Clock::duration timeToRecover() {
    const auto started = Clock::now();
    while (Clock::now() - started < 10s) {
      HttpClient http = client();
      if (http.postJson("/orders", kValidOrder).status == 201) return Clock::now() - started;
      std::this_thread::sleep_for(20ms);
    }
    return 10s;
  }

  std::unique_ptr<StorageOutage> outage_;
};

}  // namespace

TEST_F(OrdersDuringStorageOutage, StartsWithoutTheDatabaseAndServesOnceItAppears) {
  takeDatabaseAway();
  startServer();
  EXPECT_TRUE(server_->waitForLine("Database unreachable at start-up"));

  HttpClient http = client();
  EXPECT_EQ(http.get("/health").status, 200);
  const auto started = Clock::now();
  const HttpResponse refused = http.postJson("/orders", kValidOrder);
  expectProblem(refused, 503);
  EXPECT_EQ(refused.header("Retry-After"), "1");
  expectProblem(http.get("/orders/1"), 503);
  EXPECT_LT(Clock::now() - started, 3s) << "503 must come promptly";

  bringDatabaseBack();
  EXPECT_LT(timeToRecover(), 2s);
  EXPECT_EQ(countOrders(*database_), 1);
}

TEST_F(OrdersDuringStorageOutage, AnswersUnavailableWhileTheDatabaseIsDownAndRecoversByItself) {
  if (!outage_->canCutOpenConnections()) GTEST_SKIP() << "an open SQLite file cannot go away like a database server";
  startServer();
  HttpClient http = client();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(http.postJson("/orders", kValidOrder).status, 201);

  takeDatabaseAway();
  const auto started = Clock::now();
  for (int i = 0; i < 5; ++i) expectProblem(client().postJson("/orders", kValidOrder), 503);
  EXPECT_LT(Clock::now() - started, 3s);

  bringDatabaseBack();
  EXPECT_LT(timeToRecover(), 2s) << server_->output();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client().postJson("/orders", kValidOrder).status, 201) << "request " << i;
  EXPECT_EQ(countOrders(*database_), 31);
  EXPECT_TRUE(server_->waitForLine("Database reachable again"));
}
