// Idempotent creation (Idempotency-Key), listing with a keyset cursor, and cancel, on the real
// server and each backend.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include <Poco/Data/Statement.h>

#include "support/eventually.h"
#include "support/service_fixture.h"
#include "e2e/orders_support.h"
#include "svc/timestamp.h"

using namespace test_support;
using namespace Poco::Data::Keywords;

namespace {

class OrdersLifecycle : public RunningServiceTest {
 protected:
  static HttpResponse postWithKey(HttpClient& http, const std::string& key, const std::string& body = kSampleOrder,
                                  const std::string& path = "/orders") {
    return http.request("POST", path, body, {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
  }

  std::int64_t createOrderOf(HttpClient& http, int userId) {
    return createOrder(http, "/orders", R"({"user_id":)" + std::to_string(userId) + R"(,"product_id":456,"quantity":2})");
  }

  std::int64_t keyCount(const std::string& sqlWhere = "") const {
    Poco::Int64 rows = 0;
    database_->connect() << "SELECT COUNT(*) FROM idempotency_keys " + sqlWhere, into(rows), now;
    return rows;
  }

  std::string storedHash(const std::string& key) const {
    std::string hash;
    database_->connect() << "SELECT request_hash FROM idempotency_keys WHERE idempotency_key = '" + key + "'",
        into(hash), now;
    return hash;
  }

  /// A key row as an unfinished request leaves it, its lock running out `lockedForSeconds` from now.
  void insertUnfinishedKey(const std::string& key, const std::string& hash, int lockedForSeconds) const {
    const svc::EpochMicros now = svc::nowEpochMicros();
    database_->execute(
        "INSERT INTO idempotency_keys (idempotency_key, request_hash, owner_token, locked_until, expires_at) VALUES ('" +
        key + "', '" + hash + "', 'crashed-owner', " + std::to_string(now + lockedForSeconds * 1'000'000LL) + ", " +
        std::to_string(now + 3'600'000'000LL) + ")");
  }
};

class OrdersIdempotency : public OrdersLifecycle {};
class OrdersListing : public OrdersLifecycle {};
class OrdersCancel : public OrdersLifecycle {};

std::int64_t orderIdOf(const HttpResponse& response) { return *response.json().find("order_id")->asInt64(); }

}  // namespace

TEST_F(OrdersIdempotency, ReplaysTheFirstResponseForARetryOfTheSameOrder) {
  HttpClient http = client();
  const HttpResponse first = postWithKey(http, "retry-1");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_FALSE(first.headers.has("Idempotent-Replayed"));

  // the same order, laid out differently, with an ignored member: the same request
  const HttpResponse retry = postWithKey(http, "retry-1", R"( { "quantity": 2, "product_id": 456, "user_id": 123, "x": 1 } )");
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.header("Location"), first.header("Location"));
  EXPECT_EQ(retry.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(retry.header("Content-Type"), "application/json");

  const HttpResponse versioned = postWithKey(http, "retry-1", kSampleOrder, "/api/v1/orders");
  EXPECT_EQ(versioned.status, 201);
  EXPECT_EQ(versioned.body, first.body);
  EXPECT_EQ(countOrders(*database_), 1);
  ASSERT_TRUE(server_->waitForLine("\"Created new order\""));
  EXPECT_EQ(logLines("\"Created new order\"").size(), 1u);

  const HttpResponse otherKey = postWithKey(http, "retry-2");
  EXPECT_EQ(otherKey.status, 201);
  EXPECT_NE(orderIdOf(otherKey), orderIdOf(first));
  EXPECT_EQ(countOrders(*database_), 2);
}

TEST_F(OrdersIdempotency, RefusesTheSameKeyForAnotherOrderWith422) {
  HttpClient http = client();
  ASSERT_EQ(postWithKey(http, "reused").status, 201);
  const HttpResponse response = postWithKey(http, "reused", R"({"user_id":123,"product_id":456,"quantity":3})");
  expectProblem(response, 422);
  EXPECT_NE(response.json().find("detail")->text().find("Idempotency-Key"), std::string::npos) << response.body;
  EXPECT_EQ(countOrders(*database_), 1);
}

TEST_F(OrdersIdempotency, AnswersARetryWhileTheFirstIsInFlightWith409UntilItsLockRunsOut) {
  HttpClient http = client();
  ASSERT_EQ(postWithKey(http, "sample").status, 201);
  insertUnfinishedKey("in-flight", storedHash("sample"), 60);

  const HttpResponse busy = postWithKey(http, "in-flight");
  expectProblem(busy, 409);
  EXPECT_EQ(busy.header("Retry-After"), "1");
  EXPECT_EQ(countOrders(*database_), 1);

  database_->execute("UPDATE idempotency_keys SET locked_until = 0 WHERE idempotency_key = 'in-flight'");
  const HttpResponse takenOver = postWithKey(http, "in-flight");
  EXPECT_EQ(takenOver.status, 201) << "a request that never finished holds its key only until its lock runs out";
  EXPECT_FALSE(takenOver.headers.has("Idempotent-Replayed"));
  EXPECT_EQ(countOrders(*database_), 2);
  EXPECT_EQ(postWithKey(http, "in-flight").header("Idempotent-Replayed"), "true");
}

TEST_F(OrdersIdempotency, CreatesExactlyOneOrderForConcurrentDuplicates) {
  constexpr int kClients = 8;
  std::vector<HttpResponse> answers(kClients);
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient http = client();
      http.get("/health");  // connected before the race starts
      ++ready;
      while (ready < kClients) std::this_thread::yield();
      answers[c] = postWithKey(http, "same-key");
    });
  }
  for (auto& thread : clients) thread.join();

  std::set<std::int64_t> ids;
  int created = 0;
  for (const HttpResponse& answer : answers) {
    ASSERT_TRUE(answer.status == 201 || answer.status == 409) << answer.status << " " << answer.body;
    if (answer.status == 201) {
      ++created;
      ids.insert(orderIdOf(answer));
    } else {
      EXPECT_EQ(answer.header("Retry-After"), "1");
    }
  }
  EXPECT_GE(created, 1);
  EXPECT_EQ(ids.size(), 1u) << "every 201 names the same order";
  EXPECT_EQ(countOrders(*database_), 1);
  EXPECT_EQ(keyCount(), 1);
}

TEST_F(OrdersIdempotency, RefusesMalformedKeysWith400NamingTheHeader) {
  HttpClient http = client();
  for (const std::string& key : {std::string(""), std::string(256, 'k'), std::string("two words"),
                                 std::string("caf\xc3\xa9"), std::string("tab\there")}) {
    SCOPED_TRACE(key);
    const HttpResponse response = postWithKey(http, key);
    expectProblem(response, 400);
    EXPECT_NE(response.json().find("detail")->text().find("Idempotency-Key"), std::string::npos) << response.body;
  }
  EXPECT_EQ(countOrders(*database_), 0);
  EXPECT_EQ(keyCount(), 0);
  EXPECT_EQ(postWithKey(http, std::string(255, '~')).status, 201);
  EXPECT_EQ(postWithKey(http, "!").status, 201);
}

TEST_F(OrdersIdempotency, ValidatesTheBodyBeforeStoringTheKey) {
  HttpClient http = client();
  expectProblem(postWithKey(http, "k", "{"), 400);
  expectProblem(postWithKey(http, "k", R"({"user_id":0,"product_id":1,"quantity":1})"), 422);
  expectProblem(http.request("POST", "/orders", kSampleOrder, {{"Content-Type", "text/plain"}, {"Idempotency-Key", "k"}}),
                415);
  expectProblem(postWithKey(http, "", "{"), 400);  // the body's error, not the key's
  EXPECT_EQ(keyCount(), 0);
  EXPECT_EQ(postWithKey(http, "k").status, 201) << "an invalid order left no key behind";
}

TEST_F(OrdersIdempotency, ForgetsKeysAfterTheConfiguredLifetime) {
  stopServer();
  config_->set("orders.idempotency_key_ttl_seconds", "1");
  startServer();
  HttpClient http = client();
  const HttpResponse first = postWithKey(http, "short-lived");
  ASSERT_EQ(first.status, 201);
  // Another order under the key is refused as its reuse (422) while the key lives.
  HttpResponse later;
  EXPECT_TRUE(eventually([&] {
    later = postWithKey(http, "short-lived", R"({"user_id":1,"product_id":2,"quantity":3})");
    return later.status != 422;
  }, 3s)) << "the key outlived its second";
  EXPECT_EQ(later.status, 201) << later.body;
  EXPECT_FALSE(later.headers.has("Idempotent-Replayed"));
  EXPECT_NE(orderIdOf(later), orderIdOf(first));
  EXPECT_EQ(keyCount(), 1);
}

TEST_F(OrdersIdempotency, PurgesExpiredKeysInBatchesButNotOneStillBeingProcessed) {
  database_->execute(  // more than one purge batch (1000) of expired keys
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) "
      "INSERT INTO idempotency_keys (idempotency_key, request_hash, owner_token, locked_until, expires_at, "
      "response_status, response_body, response_location) SELECT 'old-' || i, 'x', 'y', 1, 2, 201, '{}', '/orders/1' FROM n");
  database_->execute(
      "INSERT INTO idempotency_keys (idempotency_key, request_hash, owner_token, locked_until, expires_at) "
      "VALUES ('abandoned', 'x', 'y', 1, 2), ('in-flight', 'x', 'y', 9000000000000000, 2)");
  HttpClient http = client();
  ASSERT_EQ(postWithKey(http, "new").status, 201);
  EXPECT_EQ(keyCount("WHERE idempotency_key LIKE 'old-%' OR idempotency_key = 'abandoned'"), 0);
  EXPECT_EQ(keyCount("WHERE idempotency_key = 'in-flight'"), 1) << "its request may still complete it";
  EXPECT_EQ(keyCount(), 2);
}

// Keys stored by the previous release hold a response, not an order id: their order and the first
// request's path are read from the stored Location.
TEST_F(OrdersIdempotency, ReplaysKeysStoredByThePreviousRelease) {
  HttpClient http = client();
  ASSERT_EQ(postWithKey(http, "probe").status, 201);
  const std::string hash = storedHash("probe");
  const std::int64_t viaBody = createOrderOf(http, 7);
  const std::int64_t viaLocation = createOrderOf(http, 8);
  stopServer();
  // The database as the previous release left it: no migration 5, whole responses stored.
  database_->execute("DELETE FROM plugin_migrations WHERE plugin = 'orders' AND version = 5");
  database_->execute("ALTER TABLE idempotency_keys DROP COLUMN order_id");
  database_->execute("ALTER TABLE idempotency_keys DROP COLUMN created_via");
  const auto storeOldKey = [&](const std::string& key, const std::string& body, const std::string& location) {
    database_->execute(
        "INSERT INTO idempotency_keys (idempotency_key, request_hash, owner_token, locked_until, expires_at, "
        "response_status, response_body, response_location) VALUES ('" + key + "', '" + hash + "', 'old-owner', 1, " +
        std::to_string(svc::nowEpochMicros() + 3'600'000'000LL) + ", 201, '" + body + "', '" + location + "')");
  };
  const std::string bodyOf = R"({"order_id":)" + std::to_string(viaBody) + R"(,"status":"created"})";
  storeOldKey("old-body", bodyOf, "/api/v1/orders/" + std::to_string(viaBody));
  storeOldKey("old-location", "{}", "/orders/" + std::to_string(viaLocation));
  startServer();

  HttpClient again = client();
  const HttpResponse replayed = postWithKey(again, "old-body");
  ASSERT_EQ(replayed.status, 201) << replayed.body;
  EXPECT_EQ(replayed.body, bodyOf);
  EXPECT_EQ(replayed.header("Location"), "/orders/" + std::to_string(viaBody)) << "under the path it was sent to";
  EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");
  const HttpResponse fromLocation = postWithKey(again, "old-location", kSampleOrder, "/api/v1/orders");
  ASSERT_EQ(fromLocation.status, 201) << fromLocation.body;
  EXPECT_EQ(orderIdOf(fromLocation), viaLocation);
  EXPECT_EQ(fromLocation.header("Location"), "/api/v1/orders/" + std::to_string(viaLocation));
  EXPECT_EQ(fromLocation.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(countOrders(*database_), 3) << "nothing was created again";
  EXPECT_EQ(keyCount("WHERE idempotency_key IN ('old-body', 'old-location') AND order_id IS NULL"), 2)
      << "read from their stored Location: migration 5 rewrites no key";
}

// A key is recorded with its order's id, and a replay is answered under the path it was sent to.
TEST_F(OrdersIdempotency, RecordsTheOrderIdWithTheKey) {
  HttpClient http = client();
  const HttpResponse first = postWithKey(http, "recorded", kSampleOrder, "/api/v1/orders");
  ASSERT_EQ(first.status, 201);
  const std::string id = std::to_string(orderIdOf(first));
  EXPECT_EQ(first.header("Location"), "/api/v1/orders/" + id);
  EXPECT_EQ(keyCount("WHERE idempotency_key = 'recorded' AND order_id = " + id + " AND created_via IS NULL"), 1);
  // What an instance of an earlier release reads of a completed key during a rolling upgrade.
  EXPECT_EQ(keyCount("WHERE idempotency_key = 'recorded' AND response_status = 201 AND response_body = '" +
                     first.body + "' AND response_location = '/orders/" + id + "'"),
            1);
  const HttpResponse replay = postWithKey(http, "recorded");
  EXPECT_EQ(replay.header("Location"), "/orders/" + id);
  EXPECT_EQ(replay.body, first.body);
}

// Instances' clocks may disagree with each other and with the database: the locks and lifetimes
// of keys are set and compared by the database's clock. The server runs with its wall clock
// two minutes ahead, then behind (tests/tools/skewed_clock.cpp); an instance that died holding a
// key is a key row left unfinished.
TEST_F(OrdersIdempotency, LetsTheDatabaseClockDecideWhenAKeyLockRunsOut) {
  HttpClient http = client();
  ASSERT_EQ(postWithKey(http, "sample").status, 201);
  const std::string hash = storedHash("sample");
  for (const int skewSeconds : {120, -120}) {
    SCOPED_TRACE("instance clock off by " + std::to_string(skewSeconds) + " s");
    stopServer();
    std::map<std::string, std::string> environment{{"LD_PRELOAD", SKEWED_CLOCK_LIBRARY},
                                                   {"SKEWED_CLOCK_SECONDS", std::to_string(skewSeconds)}};
    // The sanitizers' runtime wants to be loaded first; here it comes second, on purpose.
    const char* asan = std::getenv("ASAN_OPTIONS");
    environment["ASAN_OPTIONS"] = std::string(asan == nullptr ? "" : std::string(asan) + ":") + "verify_asan_link_order=0";
    startServer(environment);
    HttpClient skewed = client();
    ASSERT_EQ(skewed.get("/health").status, 200);
    const std::string suffix = std::to_string(skewSeconds);
    // The server's own clock is off (its log lines are stamped with it).
    const std::vector<svc::json::Value> started = logLines("\"timestamp\"");
    ASSERT_FALSE(started.empty());
    const auto stamped = svc::parseTimestamp(started.back().find("timestamp")->text());
    ASSERT_TRUE(stamped);
    EXPECT_NEAR(static_cast<double>(*stamped - svc::nowEpochMicros()) / 1e6, skewSeconds, 15);

    insertUnfinishedKey("held-" + suffix, hash, 30);
    const HttpResponse held = postWithKey(skewed, "held-" + suffix);
    expectProblem(held, 409);
    EXPECT_EQ(held.header("Retry-After"), "1") << "its lock runs 30 s more by the database's clock";

    insertUnfinishedKey("ran-out-" + suffix, hash, -1);
    const HttpResponse takenOver = postWithKey(skewed, "ran-out-" + suffix);
    EXPECT_EQ(takenOver.status, 201) << "its lock ran out 1 s ago by the database's clock: " << takenOver.body;
    EXPECT_FALSE(takenOver.headers.has("Idempotent-Replayed"));

    // A key claimed by the skewed instance expires by the database's clock too.
    const svc::EpochMicros now = svc::nowEpochMicros();
    const std::string nearDay = std::to_string(now + 86'400'000'000LL - 10'000'000) + " AND " +
                                std::to_string(now + 86'400'000'000LL + 10'000'000);
    EXPECT_EQ(keyCount("WHERE idempotency_key = 'ran-out-" + suffix + "' AND expires_at BETWEEN " + nearDay), 1);
  }
  EXPECT_EQ(countOrders(*database_), 3) << "the sample order and one for each lock that ran out";
}

TEST_F(OrdersIdempotency, RefusesAnInvalidLifetimeAtStartUp) {
  stopServer();
  config_->set("orders.idempotency_key_ttl_seconds", "0");
  const std::string file = config_->write(directory_.path()).string();
  ServerProcess server({"--config=" + file});
  EXPECT_EQ(server.waitForExit(), 78);
  EXPECT_NE(server.output().find("orders.idempotency_key_ttl_seconds must be an integer from 1"), std::string::npos)
      << server.output();
}

TEST_F(OrdersListing, ListsNewestFirstInPagesFollowingTheCursor) {
  HttpClient http = client();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(createOrder(http));
  std::vector<std::int64_t> listed;
  std::string target = "/orders?limit=2";
  for (int page = 0; page < 3; ++page) {
    const HttpResponse response = http.get(target);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.header("Content-Type"), "application/json");
    const svc::json::Value body = response.json();
    for (const svc::json::Value& order : body.find("orders")->items()) {
      const std::int64_t id = *order.find("order_id")->asInt64();
      listed.push_back(id);
      EXPECT_NE(response.body.find(http.get("/orders/" + std::to_string(id)).body), std::string::npos)
          << "a listed order is the object GET /orders/{id} returns";
    }
    const svc::json::Value* next = body.find("next_cursor");
    if (page < 2) {
      ASSERT_EQ(next->kind(), svc::json::Kind::String) << response.body;
      target = "/orders?limit=2&cursor=" + next->text();
    } else {
      EXPECT_EQ(next->kind(), svc::json::Kind::Null) << response.body;
    }
  }
  EXPECT_EQ(listed, (std::vector<std::int64_t>{ids[4], ids[3], ids[2], ids[1], ids[0]}));
}

TEST_F(OrdersListing, FiltersByUserAndStatus) {
  HttpClient http = client();
  const std::int64_t first = createOrderOf(http, 1);
  const std::int64_t second = createOrderOf(http, 1);
  const std::int64_t other = createOrderOf(http, 2);
  ASSERT_EQ(http.request("POST", "/orders/" + std::to_string(first) + "/cancel").status, 200);

  const auto idsOf = [&](const std::string& target) {
    std::vector<std::int64_t> ids;
    const HttpResponse response = http.get(target);
    EXPECT_EQ(response.status, 200) << response.body;
    const svc::json::Value body = response.json();
    for (const auto& order : body.find("orders")->items()) ids.push_back(*order.find("order_id")->asInt64());
    return ids;
  };
  EXPECT_EQ(idsOf("/orders?user_id=1"), (std::vector<std::int64_t>{second, first}));
  EXPECT_EQ(idsOf("/orders?status=created"), (std::vector<std::int64_t>{other, second}));
  EXPECT_EQ(idsOf("/orders?user_id=1&status=cancelled"), (std::vector<std::int64_t>{first}));
  EXPECT_EQ(idsOf("/api/v1/orders?user_id=2&status=created&unknown=ignored"), (std::vector<std::int64_t>{other}));
  EXPECT_TRUE(idsOf("/orders?user_id=3").empty());
  EXPECT_EQ(http.get("/orders?user_id=3").body, R"({"orders":[],"next_cursor":null})");

  const HttpResponse page = http.get("/orders?user_id=1&limit=1");
  const std::string cursor = page.json().find("next_cursor")->text();
  EXPECT_EQ(idsOf("/orders?user_id=1&limit=1&cursor=" + cursor), (std::vector<std::int64_t>{first}));
}

TEST_F(OrdersListing, GivesTwentyByDefaultAndAtMostAHundred) {
  HttpClient http = client();
  for (int i = 0; i < 21; ++i) createOrder(http);
  const svc::json::Value byDefault = http.get("/orders").json();
  EXPECT_EQ(byDefault.find("orders")->items().size(), 20u);
  EXPECT_EQ(byDefault.find("next_cursor")->kind(), svc::json::Kind::String);
  const svc::json::Value all = http.get("/orders?limit=100").json();
  EXPECT_EQ(all.find("orders")->items().size(), 21u);
  EXPECT_EQ(all.find("next_cursor")->kind(), svc::json::Kind::Null);
}

TEST_F(OrdersListing, RefusesInvalidParametersWith400NamingThem) {
  HttpClient http = client();
  const std::int64_t id = createOrder(http);
  createOrder(http);
  const std::string cursor = http.get("/orders?limit=1").json().find("next_cursor")->text();
  std::string tampered = cursor;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"user_id=abc", "/user_id"},   {"user_id=0", "/user_id"},       {"user_id=-1", "/user_id"},
      {"user_id=2147483648", "/user_id"}, {"user_id=", "/user_id"}, {"status=shipped", "/status"},
      {"status=", "/status"},        {"limit=0", "/limit"},           {"limit=101", "/limit"},
      {"limit=abc", "/limit"},       {"limit=1.5", "/limit"},         {"cursor=" + tampered, "/cursor"},
      {"cursor=%21%21", "/cursor"},  {"cursor=", "/cursor"},          {"cursor=" + cursor + "A", "/cursor"},
  };
  for (const auto& [query, pointer] : cases) {
    SCOPED_TRACE(query);
    const HttpResponse response = http.get("/orders?" + query);
    expectProblem(response, 400);
    const svc::json::Value problem = response.json();
    const svc::json::Value* errors = problem.find("errors");
    ASSERT_NE(errors, nullptr) << response.body;
    EXPECT_EQ(errors->items().at(0).find("pointer")->text(), pointer);
  }
  const HttpResponse several = http.get("/api/v1/orders?user_id=x&limit=0");
  expectProblem(several, 400);
  EXPECT_EQ(several.json().find("errors")->items().size(), 2u);
  expectProblem(http.get("/orders?user_id=%zz"), 400);
  EXPECT_EQ(http.get("/orders?user_id=123").json().find("orders")->items().at(1).find("order_id")->asInt64(), id);
}

TEST_F(OrdersCancel, CancelsACreatedOrderOnceAndThenAnswersUnchanged) {
  HttpClient http = client();
  const std::int64_t id = createOrder(http);
  const std::string path = "/orders/" + std::to_string(id);
  const svc::json::Value before = http.get(path).json();
  EXPECT_EQ(before.find("updated_at")->text(), before.find("created_at")->text()) << "never updated";

  const HttpResponse cancelled = http.request("POST", path + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.header("Content-Type"), "application/json");
  const svc::json::Value order = cancelled.json();
  EXPECT_EQ(order.find("status")->text(), "cancelled");
  EXPECT_EQ(order.find("order_id")->asInt64(), id);
  EXPECT_EQ(order.find("created_at")->text(), before.find("created_at")->text());
  EXPECT_TRUE(isRfc3339Millis(order.find("updated_at")->text())) << cancelled.body;
  EXPECT_GE(*svc::parseTimestamp(order.find("updated_at")->text()), *svc::parseTimestamp(order.find("created_at")->text()));
  EXPECT_EQ(http.get(path).body, cancelled.body);

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const HttpResponse again = http.request("POST", "/api/v1" + path + "/cancel");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, cancelled.body) << "cancelling again changes nothing, updated_at included";
  EXPECT_EQ(countOrders(*database_, "WHERE status = 'cancelled'"), 1);
  ASSERT_TRUE(server_->waitForLine("\"Cancelled order\""));
  EXPECT_EQ(logLines("\"Cancelled order\"").size(), 1u);
}

TEST_F(OrdersCancel, AnswersUnknownOrdersWith404AndBadIdsWith400) {
  HttpClient http = client();
  expectProblem(http.request("POST", "/orders/4242/cancel"), 404);
  expectProblem(http.request("POST", "/api/v1/orders/4242/cancel"), 404);
  for (const char* id : {"abc", "0", "-1", "9223372036854775808"}) {
    SCOPED_TRACE(id);
    expectProblem(http.request("POST", std::string("/orders/") + id + "/cancel"), 400);
  }
  const HttpResponse wrongMethod = http.get("/orders/1/cancel");
  expectProblem(wrongMethod, 405);
  EXPECT_EQ(wrongMethod.header("Allow"), "POST, OPTIONS");
  EXPECT_EQ(countOrders(*database_), 0);
}
