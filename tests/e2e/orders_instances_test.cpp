// Two service processes on one database, as behind a load balancer: they start together on an
// empty database, share Idempotency-Keys and id sequences, and each migration runs once.
#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <Poco/Data/Statement.h>

#include "support/service_fixture.h"
#include "e2e/orders_support.h"

using namespace test_support;
using namespace Poco::Data::Keywords;

namespace {

class OrdersTwoInstances : public ServiceTest {
 protected:
  /// Starts two servers on the current database at the same moment.
  void startBoth() {
    const std::string file = config_->write(directory_.path()).string();
    for (auto& server : servers_) server = std::make_unique<ServerProcess>(std::vector<std::string>{"--config=" + file});
    for (std::size_t i = 0; i < servers_.size(); ++i) ports_[i] = servers_[i]->waitUntilServing();
  }

  void stopBoth() {
    for (auto& server : servers_) server->signal(SIGTERM);
    for (auto& server : servers_) EXPECT_EQ(server->waitForExit().value_or(-1), 0) << server->output();
    for (auto& server : servers_) server.reset();
  }

  std::size_t linesOfBoth(const std::string& text) const {
    std::size_t count = 0;
    for (const auto& server : servers_) {
      for (const std::string& line : server->lines()) count += line.find(text) != std::string::npos;
    }
    return count;
  }

  static bool becomesReady(std::uint16_t port, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (HttpClient(port).get("/health/ready").status != 200) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  std::int64_t scalar(const std::string& sql) const {
    Poco::Data::Session session = database_->connect();
    Poco::Int64 value = 0;
    session << sql, into(value), now;
    return value;
  }

  std::array<std::unique_ptr<ServerProcess>, 2> servers_;
  std::array<std::uint16_t, 2> ports_{};
};

TEST_F(OrdersTwoInstances, StartTogetherOnAnEmptyDatabaseAndApplyEachMigrationOnce) {
  const std::size_t migrations = std::distance(std::filesystem::directory_iterator(database_->migrationsDirectory("orders")),
                                               std::filesystem::directory_iterator{});
  for (int round = 0; round < 8; ++round) {
    if (round > 0) {
      database_ = TestDatabase::create(backendUnderTest());
      config_ = std::make_unique<ServiceConfig>(database_.get());
    }
    startBoth();
    // Ready soon: while one instance migrates, the other's probe may give up within its bound.
    for (std::uint16_t port : ports_) EXPECT_TRUE(becomesReady(port, 5s)) << "round " << round;
    EXPECT_EQ(linesOfBoth("\"Applied database migration\""), migrations) << "round " << round;
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM plugin_migrations"), static_cast<std::int64_t>(migrations));
    EXPECT_EQ(scalar("SELECT COUNT(DISTINCT version) FROM plugin_migrations WHERE plugin = 'orders'"),
              static_cast<std::int64_t>(migrations));
    EXPECT_EQ(linesOfBoth("migration interrupted"), 0u) << "round " << round;
    EXPECT_EQ(linesOfBoth("\"Database unreachable"), 0u) << "round " << round << ": the other instance's lock is no outage";
    stopBoth();
  }
  // A restart finds everything applied.
  startBoth();
  EXPECT_EQ(linesOfBoth("\"Applied database migration\""), 0u);
  EXPECT_EQ(linesOfBoth("\"Database schema is current\""), 2u);
  stopBoth();
}

TEST_F(OrdersTwoInstances, OneIdempotencyKeySplitAcrossBothCreatesOneOrder) {
  startBoth();
  constexpr int kKeys = 8;
  constexpr int kSenders = 8;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "split-key-" + std::to_string(k);
    std::mutex mutex;
    std::set<std::int64_t> ids;
    std::map<int, int> statuses;
    std::vector<std::string> others;
    std::vector<std::thread> senders;
    for (int s = 0; s < kSenders; ++s) {
      senders.emplace_back([&, s] {
        HttpClient http(ports_[s % 2]);
        const HttpResponse response =
            http.request("POST", "/orders", kSampleOrder, {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
        std::lock_guard lock(mutex);
        ++statuses[response.status];
        if (response.status == 201) ids.insert(*response.json().find("order_id")->asInt64());
        if (response.status != 201 && response.status != 409) {
          others.push_back("instance " + std::to_string(s % 2) + ": " + std::to_string(response.status) + " " + response.body);
        }
      });
    }
    for (auto& sender : senders) sender.join();
    EXPECT_EQ(statuses[201] + statuses[409], kSenders)
        << "only replays and 'still being processed' answers; also got:\n" << ::testing::PrintToString(others);
    EXPECT_GE(statuses[201], 1);
    EXPECT_EQ(ids.size(), 1u) << "every 201 of key " << key << " carries the same order_id";
  }
  EXPECT_EQ(countOrders(*database_), kKeys);
  stopBoth();
}

TEST_F(OrdersTwoInstances, IdsOfBothNeverCollide) {
  startBoth();
  constexpr int kThreads = 4;
  constexpr int kOrdersEach = 40;
  std::mutex mutex;
  std::vector<std::int64_t> ids;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient http(ports_[t % 2]);
      for (int i = 0; i < kOrdersEach; ++i) {
        const HttpResponse response = http.postJson("/orders", kSampleOrder);
        if (response.status != 201) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mutex);
        ids.push_back(*response.json().find("order_id")->asInt64());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(countOrders(*database_), kThreads * kOrdersEach);
  for (std::int64_t id : {ids.front(), ids.back()}) {
    for (std::uint16_t port : ports_) EXPECT_EQ(HttpClient(port).get("/orders/" + std::to_string(id)).status, 200);
  }
  stopBoth();
}

}  // namespace
