// Orders under load while things go wrong: the database restarts, the service is stopped.
// Whatever happens, every 201 has exactly one row and no row exists without a 201, unless its
// client was cut off in the middle of the request.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Statement.h>

#include "support/service_fixture.h"

using namespace test_support;
using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;
using Clock = std::chrono::steady_clock;

namespace {

/// One POST of the load: its order is marked by a user_id no other request uses.
struct Attempt {
  std::int64_t marker = 0;
  int status = 0;  ///< 0: the client was cut off (connection refused, reset or closed mid-request)
  std::int64_t id = 0;
  Clock::time_point sent;
  Clock::time_point answered;
  std::string failure;  ///< what cut the client off
};

/// Clients posting orders as fast as they are answered, until stopped.
class OrderLoad {
 public:
  OrderLoad(std::uint16_t port, int clients) {
    for (int c = 0; c < clients; ++c) clients_.emplace_back([this, port] { post(port); });
  }
  ~OrderLoad() { stop(); }

  void stop() {
    stopping_ = true;
    for (auto& client : clients_) {
      if (client.joinable()) client.join();
    }
  }

  std::vector<Attempt> attempts() {
    std::lock_guard lock(mutex_);
    return attempts_;
  }

 private:
  void post(std::uint16_t port) {
    std::unique_ptr<HttpClient> http;
    while (!stopping_) {
      Attempt attempt{.marker = nextMarker_++, .sent = Clock::now()};
      try {
        if (!http) http = std::make_unique<HttpClient>(port, 10s);
        const HttpResponse response = http->postJson(
            "/orders", R"({"user_id":)" + std::to_string(attempt.marker) + R"(,"product_id":1,"quantity":1})");
        attempt.status = response.status;
        if (response.status == 201) attempt.id = *response.json().find("order_id")->asInt64();
        if (response.status >= 500 && response.header("Content-Type") != "application/problem+json") attempt.status = -1;
      } catch (const Poco::Exception& error) {
        attempt.failure = error.displayText();
        http.reset();
        std::this_thread::sleep_for(5ms);  // refused: do not spin
      }
      attempt.answered = Clock::now();
      std::lock_guard lock(mutex_);
      attempts_.push_back(attempt);
    }
  }

  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> nextMarker_{1};
  std::mutex mutex_;
  std::vector<Attempt> attempts_;
  std::vector<std::thread> clients_;
};

/// Every 201 has exactly its row; a row without a 201 belongs to a client that was cut off.
void expectExactlyOnce(const std::vector<Attempt>& attempts, Poco::Data::Session session) {
  std::vector<Poco::Int64> ids;
  std::vector<Poco::Int64> markers;
  session << "SELECT id, user_id FROM orders", into(ids), into(markers), now;
  std::map<std::int64_t, std::vector<std::int64_t>> rowsOf;
  for (std::size_t i = 0; i < ids.size(); ++i) rowsOf[markers[i]].push_back(ids[i]);
  std::size_t created = 0;
  for (const Attempt& attempt : attempts) {
    const auto rows = rowsOf.find(attempt.marker);
    if (attempt.status == 201) {
      ++created;
      ASSERT_NE(rows, rowsOf.end()) << "order " << attempt.id << " answered 201 but is not stored";
      EXPECT_EQ(rows->second, std::vector<std::int64_t>{attempt.id}) << "marker " << attempt.marker;
    } else if (rows != rowsOf.end()) {
      EXPECT_EQ(attempt.status, 0) << "a row exists for marker " << attempt.marker << " answered " << attempt.status;
      EXPECT_EQ(rows->second.size(), 1u);
    }
  }
  EXPECT_GT(created, 100u) << "too little load to mean anything";
}

/// Runs a shell command and returns its output; the test fails when it does.
std::string shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[256];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  EXPECT_EQ(status, 0) << command << "\n" << output;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

class OrdersUnderLoad : public ServiceTest {};

/// A PostgreSQL server of the test's own, which it stops and starts (the shared one it may not).
class OrdersDuringDatabaseRestart : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (database_->backendName() != "postgresql") GTEST_SKIP() << "an embedded SQLite database has no server to restart";
    admin_ = shell(scripts_ + "pg-throwaway.sh start " + server_dir_.path().string());
    Poco::Data::PostgreSQL::Connector::registerConnector();
    Poco::Data::Session("PostgreSQL", admin_) << "CREATE DATABASE orders", now;
    config_->set("storage.connection", admin_ + " dbname=orders connect_timeout=2");
    config_->set("storage.reconnect_backoff_ms", "100");
  }

  void TearDown() override {
    if (!admin_.empty()) shell(scripts_ + "pg-throwaway.sh stop " + server_dir_.path().string());
  }

  Poco::Data::Session orders() const { return Poco::Data::Session("PostgreSQL", admin_ + " dbname=orders"); }

  const std::string scripts_ = std::string(ORDER_SERVICE_SOURCE_DIR) + "/scripts/";
  TempDir server_dir_;
  std::string admin_;
};

}  // namespace

TEST_F(OrdersDuringDatabaseRestart, AnswersQuicklyRecoversByItselfAndLosesNoOrder) {
  startServer();
  OrderLoad load(port_, 8);
  std::this_thread::sleep_for(1500ms);
  const auto stopping = Clock::now();
  shell(scripts_ + "pg-throwaway.sh stop " + server_dir_.path().string());
  std::this_thread::sleep_for(3s);
  shell(scripts_ + "pg-throwaway.sh start " + server_dir_.path().string());
  const auto restarted = Clock::now();
  std::this_thread::sleep_for(3s);
  load.stop();

  const std::vector<Attempt> attempts = load.attempts();
  Clock::time_point firstServedAgain = Clock::time_point::max();
  for (const Attempt& attempt : attempts) {
    EXPECT_TRUE(attempt.status == 201 || attempt.status == 503) << "status " << attempt.status << " " << attempt.failure;
    EXPECT_LT(attempt.answered - attempt.sent, 3s) << "a request hung";
    if (attempt.status == 201 && attempt.sent >= restarted) firstServedAgain = std::min(firstServedAgain, attempt.answered);
  }
  EXPECT_LT(firstServedAgain - restarted, 2s) << "the service did not recover by itself within 2 s";
  int failedAfterRecovery = 0;
  int unavailableWhileDown = 0;
  for (const Attempt& attempt : attempts) {
    failedAfterRecovery += attempt.sent > firstServedAgain && attempt.status != 201;
    unavailableWhileDown += attempt.sent > stopping + 500ms && attempt.sent < restarted && attempt.status == 503;
  }
  EXPECT_EQ(failedAfterRecovery, 0) << "stale pooled sessions failed requests after the recovery";
  EXPECT_GT(unavailableWhileDown, 10) << "503s while the database was down";
  expectExactlyOnce(attempts, orders());
}

TEST_F(OrdersUnderLoad, SigtermFinishesRequestsInProgressAndLosesNoOrder) {
  config_->set("server.shutdown_grace_ms", "5000");
  startServer();
  OrderLoad load(port_, 8);
  std::this_thread::sleep_for(1500ms);
  const auto stopping = Clock::now();
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->waitForExit(10s), 0);
  EXPECT_LT(Clock::now() - stopping, 5s);
  load.stop();

  const std::vector<Attempt> attempts = load.attempts();
  for (const Attempt& attempt : attempts) {
    EXPECT_TRUE(attempt.status == 201 || attempt.status == 0) << "status " << attempt.status;
  }
  expectExactlyOnce(attempts, database_->connect());
}
