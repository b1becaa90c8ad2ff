// The database runs short of disk space or connections: writes answer 503 naming the cause, with
// Retry-After, while reads and /health go on.
#include <gtest/gtest.h>

#include <unistd.h>

#include <iostream>

#include <Poco/Data/RecordSet.h>

#include "support/service_fixture.h"
#include "e2e/orders_support.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

void expectCapacityProblem(const HttpResponse& response, const std::string& cause, const std::string& retryAfter) {
  expectProblem(response, 503);
  EXPECT_NE(response.json().find("detail")->text().find(cause), std::string::npos) << response.body;
  EXPECT_EQ(response.header("Retry-After"), retryAfter);
}

int pageCount(const TestDatabase& database) {
  Poco::Data::Session session = database.connect();
  int pages = 0;
  session << "PRAGMA page_count", Poco::Data::Keywords::into(pages), Poco::Data::Keywords::now;
  return pages;
}

}  // namespace

// PRAGMA max_page_count ([storage] max_page_count) makes SQLite answer SQLITE_FULL, as a full disk does.
TEST(DatabaseCapacity, SqliteDiskFullAnswers503NamingItWhileReadsGoOn) {
  if (backendUnderTest() != Backend::Sqlite) GTEST_SKIP() << "SQLite only";
  TempDir directory;
  const auto database = TestDatabase::create(Backend::Sqlite);
  ServiceConfig config(database.get());
  std::uint16_t port = 0;
  {
    ServerProcess first({"--config=" + config.write(directory.path()).string()});
    port = first.waitUntilServing();
    ASSERT_EQ(HttpClient(port).postJson("/orders", kSampleOrder).status, 201);
  }
  config.set("storage-sqlite.max_page_count", std::to_string(pageCount(*database) + 2));
  ServerProcess server({"--config=" + config.write(directory.path()).string()});
  port = server.waitUntilServing();
  HttpClient http(port);

  int created = 0;
  HttpResponse refused;
  while (created < 5000) {
    refused = http.postJson("/orders", kSampleOrder);
    if (refused.status != 201) break;
    ++created;
  }
  ASSERT_GT(created, 0) << "the two spare pages held some orders";
  expectCapacityProblem(refused, "disk is full", "30");

  Clock::duration slowest{};
  for (int i = 0; i < 50; ++i) {
    const auto started = Clock::now();
    const HttpResponse again = http.postJson("/orders", kSampleOrder);
    slowest = std::max(slowest, Clock::now() - started);
    EXPECT_EQ(again.status, 503) << again.body;
  }
  std::cout << "[ figures  ] " << created << " orders stored, then 51 POSTs answered 503, slowest "
            << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count() << " ms\n";
  EXPECT_EQ(http.get("/orders/1").status, 200) << "reads go on";
  EXPECT_EQ(http.get("/orders/" + std::to_string(created + 1)).status, 200);
  EXPECT_EQ(http.get("/orders?user_id=123").status, 200);
  EXPECT_EQ(http.get("/health").status, 200);
  EXPECT_EQ(http.get("/health/ready").status, 200) << "the database answers";
  EXPECT_EQ(countOrders(*database), created + 1) << "nothing was stored behind a 503";
  EXPECT_TRUE(server.waitForLine("database or disk is full")) << "the log has the database's own words";
}

// A role whose CONNECTION LIMIT is 0 is refused with 53300 too_many_connections, as every client
// is once max_connections is reached.
TEST(StorageCapacity, PostgresTooManyConnectionsAnswers503NamingIt) {
  if (backendUnderTest() != Backend::Postgres) GTEST_SKIP() << "PostgreSQL only";
  TempDir directory;
  const auto database = TestDatabase::create(Backend::Postgres);
  const std::string role = "capacity_test_" + std::to_string(getpid());
  database->execute("CREATE ROLE " + role + " LOGIN CONNECTION LIMIT 0");
  ServiceConfig config(database.get());
  config.set("storage-postgres.connection", database->storageSettings().at("connection") + " user=" + role);
  {
    ServerProcess server({"--config=" + config.write(directory.path()).string()});
    HttpClient http(server.waitUntilServing());
    expectCapacityProblem(http.postJson("/orders", kSampleOrder), "accepts no more connections", "5");
    expectCapacityProblem(http.get("/orders/1"), "accepts no more connections", "5");
    EXPECT_EQ(http.get("/health").status, 200);
    EXPECT_EQ(http.get("/health/ready").status, 503);
  }
  database->execute("DROP ROLE " + role);
}
