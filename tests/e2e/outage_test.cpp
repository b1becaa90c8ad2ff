#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "support/service_fixture.h"
#include "support/tcp_proxy.h"

using namespace test_support;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kValidOrder = R"({"user_id":1,"product_id":2,"quantity":3})";

std::pair<std::string, std::uint16_t> postgresEndpoint(const std::string& connection) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5432;
  std::istringstream words(connection);
  for (std::string word; words >> word;) {
    if (word.rfind("host=", 0) == 0) host = word.substr(5);
    if (word.rfind("port=", 0) == 0) port = static_cast<std::uint16_t>(std::stoi(word.substr(5)));
  }
  return {host, port};
}

/// The database goes away and comes back while the service keeps running: for PostgreSQL a
/// proxy in front of the server cuts and refuses connections; the embedded SQLite file becomes
/// unreachable when its folder cannot be created.
class OrdersDuringStorageOutage : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    config_->set("storage.reconnect_backoff_ms", "100");
    if (database_->backendName() == "postgresql") {
      const std::string connection = database_->storageSettings()["connection"];
      const auto [host, port] = postgresEndpoint(connection);
      proxy_ = std::make_unique<TcpProxy>(host, port);
      config_->set("storage.connection", connection + " host=127.0.0.1 port=" + std::to_string(proxy_->port()));
    } else {
      blocker_ = std::filesystem::path(database_->storageSettings()["database"]).parent_path();
    }
  }

  void takeDatabaseAway() {
    if (proxy_) proxy_->stop();
    else std::ofstream(blocker_) << "a file where the database folder should be";
  }

  void bringDatabaseBack() {
    if (proxy_) proxy_->start();
    else std::filesystem::remove(blocker_);
  }

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

  std::unique_ptr<TcpProxy> proxy_;
  std::filesystem::path blocker_;
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
  EXPECT_EQ(database_->count(), 1);
}

TEST_F(OrdersDuringStorageOutage, AnswersUnavailableWhileTheDatabaseIsDownAndRecoversByItself) {
  if (!proxy_) GTEST_SKIP() << "an open SQLite file cannot go away like a database server";
  bringDatabaseBack();
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
  EXPECT_EQ(database_->count(), 31);
  EXPECT_TRUE(server_->waitForLine("Database reachable again"));
}
