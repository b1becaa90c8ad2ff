// GET /health (liveness) and GET /health/ready (the database answers), on each backend.
#include <gtest/gtest.h>

#include <thread>

#include "support/service_fixture.h"
#include "support/storage_outage.h"

using namespace test_support;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// Named Storage* so that it runs once per backend.
class StorageReadyProbe : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    config_->set("storage.reconnect_backoff_ms", "100");
    outage_ = std::make_unique<StorageOutage>(*database_, *config_);
  }

  /// Asks /health/ready until it answers 200; returns how long that took.
  Clock::duration timeUntilReady() {
    const auto started = Clock::now();
    while (Clock::now() - started < 10s) {
      if (client().get("/health/ready").status == 200) return Clock::now() - started;
      std::this_thread::sleep_for(20ms);
    }
    return 10s;
  }

  void expectNotReadyPromptly() {
    const auto started = Clock::now();
    const HttpResponse response = client().get("/health/ready");
    EXPECT_LT(Clock::now() - started, 2s) << "the probe must answer within its bound";
    expectProblem(response, 503);
    EXPECT_EQ(response.header("Retry-After"), "1");
  }

  std::unique_ptr<StorageOutage> outage_;
};

}  // namespace

TEST_F(StorageReadyProbe, IsReadyWhenTheDatabaseAnswersAndNamesTheBackend) {
  startServer();
  const HttpResponse response = client().get("/health/ready");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Content-Type"), "application/json");
  EXPECT_EQ(response.body, R"({"status":"ready","backend":")" + database_->backendName() + R"("})");
}

TEST_F(StorageReadyProbe, IsNotReadyWhileTheDatabaseIsUnreachableButStaysAlive) {
  outage_->takeDatabaseAway();
  startServer();
  expectNotReadyPromptly();
  const HttpResponse alive = client().get("/health");
  EXPECT_EQ(alive.status, 200);
  EXPECT_EQ(alive.body, R"({"status":"ok"})");

  outage_->bringDatabaseBack();
  EXPECT_LT(timeUntilReady(), 2s);
}

TEST_F(StorageReadyProbe, TurnsNotReadyWhenTheDatabaseStopsAndRecoversWhenItReturns) {
  if (!outage_->canCutOpenConnections()) GTEST_SKIP() << "an open SQLite file cannot go away like a database server";
  startServer();
  ASSERT_EQ(client().get("/health/ready").status, 200);

  outage_->takeDatabaseAway();
  expectNotReadyPromptly();
  expectNotReadyPromptly();

  outage_->bringDatabaseBack();
  EXPECT_LT(timeUntilReady(), 2s) << server_->output();
  EXPECT_EQ(client().get("/health/ready").status, 200);
}
