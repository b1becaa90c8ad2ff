// The orders plugin's schema as an operator meets it: a database of an earlier release upgrades in
// place, and a database error while migrating leaves the service up, answering 503 until the
// migrations succeed (runs on every backend).
#include <gtest/gtest.h>

#include <thread>

#include <Poco/Data/Statement.h>

#include "migrations.h"
#include "e2e/orders_support.h"
#include "support/service_fixture.h"

using namespace test_support;
using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;

namespace {

class OrdersSchema : public ServiceTest {
 protected:
  bool isPostgres() const { return database_->backendName() == "postgresql"; }

  std::int64_t scalar(const std::string& sql) const {
    Poco::Data::Session session = database_->connect();
    Poco::Int64 value = 0;
    session << sql, into(value), now;
    return value;
  }

  /// How many migrations orders ships for this backend.
  std::size_t ordersMigrations() const { return svc::findMigrations(database_->migrationsDirectory("orders")).size(); }

  /// What a release before per-plugin migrations left: orders' migrations 1..`last` applied and
  /// recorded in schema_migrations, as that release recorded them.
  void makeDatabaseOfEarlierRelease(int last) {
    database_->execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL, "
                       "applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)");
    for (const svc::Migration& migration : svc::findMigrations(database_->migrationsDirectory("orders"))) {
      if (migration.version > last) break;
      for (const std::string& statement : svc::statementsOf(migration)) database_->execute(statement);
      database_->execute("INSERT INTO schema_migrations (version, name) VALUES (" + std::to_string(migration.version) +
                         ", '" + migration.name + "')");
    }
  }
};

}  // namespace

TEST_F(OrdersSchema, UpgradesADatabaseOfTheCurrentReleaseWithoutRunningAMigrationAgain) {
  makeDatabaseOfEarlierRelease(4);
  database_->execute("INSERT INTO orders (user_id, product_id, quantity) VALUES (7, 8, 9)");
  startServer();
  const HttpResponse kept = client().get("/orders/1");
  EXPECT_EQ(kept.status, 200) << kept.body;
  EXPECT_NE(kept.body.find("\"quantity\":9"), std::string::npos) << kept.body;
  EXPECT_EQ(logLines("Applied database migration").size(), ordersMigrations() - 4) << "only the newer ones";
  EXPECT_EQ(logLines("Adopted a migration recorded in schema_migrations").size(), 4u);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM plugin_migrations WHERE plugin = 'orders'"),
            static_cast<std::int64_t>(ordersMigrations()));
  EXPECT_EQ(client().postJson("/orders", kSampleOrder).status, 201);

  ASSERT_EQ(stopServer(), 0);
  startServer();  // a second start changes nothing
  EXPECT_TRUE(logLines("Applied database migration").empty());
  EXPECT_TRUE(logLines("Adopted a migration").empty());
  EXPECT_EQ(countOrders(*database_), 2);
}

TEST_F(OrdersSchema, UpgradesADatabaseOfAnOlderReleaseByItsOneMissingMigration) {
  makeDatabaseOfEarlierRelease(3);
  startServer();
  const auto applied = logLines("Applied database migration");
  ASSERT_EQ(applied.size(), ordersMigrations() - 3);
  EXPECT_EQ(applied[0].find("migration")->text(), "004_add_order_request_token.sql");
  EXPECT_EQ(applied[0].find("plugin")->text(), "orders");
  EXPECT_EQ(logLines("Adopted a migration").size(), 3u);
  EXPECT_EQ(client().postJson("/orders", kSampleOrder).status, 201);
}

// Another session holds a lock the migration needs for longer than the database lets it wait.
TEST_F(OrdersSchema, ServesHealthAndAnswersUnavailableWhileAMigrationCannotRunAndRetries) {
  startServer();
  ASSERT_EQ(stopServer(), 0);
  config_->set(isPostgres() ? "storage.statement_timeout_ms" : "storage-sqlite.busy_timeout_ms", "300");
  Poco::Data::Session holder = database_->connect();
  holder << (isPostgres() ? "BEGIN" : "BEGIN IMMEDIATE"), now;
  if (isPostgres()) holder << "LOCK TABLE plugin_migrations IN ACCESS EXCLUSIVE MODE", now;

  startServer();
  HttpClient http = client();
  EXPECT_EQ(http.get("/health").status, 200);
  expectProblem(http.postJson("/orders", kSampleOrder), 503);
  expectProblem(http.get("/health/ready"), 503);
  EXPECT_FALSE(logLines("Database schema migration interrupted").empty()) << server_->output();
  EXPECT_TRUE(logLines("Database schema migration failed").empty());

  holder << "ROLLBACK", now;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while ((status = client().postJson("/orders", kSampleOrder).status) != 201 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 201) << server_->output();
  EXPECT_TRUE(server_->waitForLine("Database schema is current"));
}

// A route plugin loaded under another name keeps the schema its library declares: route.shop =
// orders gets orders' tables (before, it found no migrations under "shop" and said nothing).
class OrdersUnderAnotherName : public ServiceTest {
 protected:
  std::optional<std::vector<RoutePluginUnderTest>> routePlugins() const override {
    return std::vector<RoutePluginUnderTest>{{.name = "shop", .library = "orders"}};
  }
};

TEST_F(OrdersUnderAnotherName, GetsTheSchemaItsLibraryDeclares) {
  startServer();
  HttpClient http = client();
  EXPECT_EQ(http.postJson("/orders", kSampleOrder).status, 201);
  const auto loaded = logLines("\"Loaded route plugin\"");
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].find("plugin")->text(), "shop");
  EXPECT_EQ(loaded[0].find("schema")->text(), "orders");
  EXPECT_EQ(logLines("\"Applied database migration\"").size(), ordersMigrationFiles(*database_));
  EXPECT_EQ(countOrders(*database_), 1);
}
