// Orders under load while things go wrong: the database restarts or is killed, connections to it
// are cut, the service is stopped. Whatever happens, every 201 has exactly one row, and no row
// exists behind an answer that says the order was not created: a row without a 201 belongs to
// a client that was cut off in the middle of the request, or that was told the outcome is unknown.
#include <gtest/gtest.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Statement.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "support/eventually.h"
#include "support/service_fixture.h"
#include "support/storage_outage.h"

using namespace test_support;
using namespace std::chrono_literals;
using namespace Poco::Data::Keywords;
using Clock = std::chrono::steady_clock;

namespace {

/// One POST of the load: its order is marked by a user_id no other request uses.
struct Attempt {
  int client = 0;
  std::int64_t marker = 0;
  int status = 0;  ///< 0: the client was cut off (connection refused, reset or closed mid-request)
  std::string problemType;
  std::int64_t id = 0;
  Clock::time_point sent;
  Clock::time_point answered;
  std::string failure;  ///< what cut the client off
};

/// Clients posting orders as fast as they are answered, until stopped. With keys, each client
/// retries an order that was not answered 201 with the same Idempotency-Key (and marker) until it is.
class OrderLoad {
 public:
  OrderLoad(std::uint16_t port, int clients, bool withKeys = false) : withKeys_(withKeys) {
    for (int c = 0; c < clients; ++c) clients_.emplace_back([this, port, c] { post(port, c); });
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

  /// Waits until `enough(the attempts so far)` holds, or `timeout` passes; whether it held.
  bool awaitAttempts(const std::function<bool(const std::vector<Attempt>&)>& enough, Clock::duration timeout) {
    return eventually([&] {
      std::lock_guard lock(mutex_);
      return enough(attempts_);
    }, timeout);
  }

 private:
  void post(std::uint16_t port, int client) {
    std::unique_ptr<HttpClient> http;
    std::int64_t marker = nextMarker_++;
    while (!stopping_) {
      Attempt attempt{.client = client, .marker = marker, .sent = Clock::now()};
      try {
        if (!http) http = std::make_unique<HttpClient>(port, 10s);
        Headers headers{{"Content-Type", "application/json"}};
        if (withKeys_) headers["Idempotency-Key"] = "order-" + std::to_string(marker);
        const HttpResponse response = http->request(
            "POST", "/orders", R"({"user_id":)" + std::to_string(marker) + R"(,"product_id":1,"quantity":1})", headers);
        attempt.status = response.status;
        if (response.status == 201) attempt.id = *response.json().find("order_id")->asInt64();
        if (response.status >= 500 && response.header("Content-Type") != "application/problem+json") attempt.status = -1;
        if (response.header("Content-Type") == "application/problem+json") {
          attempt.problemType = response.json().find("type")->text();
        }
      } catch (const Poco::Exception& error) {
        attempt.failure = error.displayText();
        http.reset();
        std::this_thread::sleep_for(5ms);  // refused: do not spin
      }
      attempt.answered = Clock::now();
      if (!withKeys_ || attempt.status == 201) marker = nextMarker_++;
      if (attempt.status != 201) std::this_thread::sleep_for(withKeys_ ? 100ms : 0ms);  // as Retry-After asks, roughly
      std::lock_guard lock(mutex_);
      attempts_.push_back(attempt);
    }
  }

  const bool withKeys_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> nextMarker_{1};
  std::mutex mutex_;
  std::vector<Attempt> attempts_;
  std::vector<std::thread> clients_;
};

constexpr std::string_view kOutcomeUnknown = "/problems/outcome-unknown";

enum class Outcome { Created, NotCreated };  ///< NotCreated: refused, cut off, or of unknown outcome

/// Whether at least `count` attempts sent after `since` had `outcome`.
std::function<bool(const std::vector<Attempt>&)> atLeast(std::size_t count, Outcome outcome, Clock::time_point since = {}) {
  return [=](const std::vector<Attempt>& attempts) {
    return std::count_if(attempts.begin(), attempts.end(), [&](const Attempt& attempt) {
             return attempt.sent > since && (attempt.status == 201) == (outcome == Outcome::Created);
           }) >= static_cast<std::ptrdiff_t>(count);
  };
}

/// Orders created before anything goes wrong: expectExactlyOnce wants more than 100 in all.
constexpr std::size_t kWarmLoad = 101;

/// What the attempts and the rows say together.
struct Tally {
  std::size_t created = 0;          ///< 201 answers
  std::size_t outcomeUnknown = 0;   ///< 503 outcome-unknown answers
  std::size_t storedBehindUnknown = 0;
  std::size_t storedBehindNotCreated = 0;  ///< rows behind an answer that said the order was not created
};

/// Every 201 has exactly its row (one per marker: a retry with the same key replays it); a row
/// without a 201 belongs to a client that was cut off or told that the outcome is unknown.
Tally expectExactlyOnce(const std::vector<Attempt>& attempts, Poco::Data::Session session) {
  std::vector<Poco::Int64> ids;
  std::vector<Poco::Int64> markers;
  session << "SELECT id, user_id FROM orders", into(ids), into(markers), now;
  std::map<std::int64_t, std::vector<std::int64_t>> rowsOf;
  for (std::size_t i = 0; i < ids.size(); ++i) rowsOf[markers[i]].push_back(ids[i]);
  std::map<std::int64_t, bool> mayBeStored;  // by marker: some answer did not say "not created"
  Tally tally;
  for (const Attempt& attempt : attempts) {
    const bool unknown = attempt.problemType == kOutcomeUnknown;
    tally.outcomeUnknown += unknown;
    mayBeStored[attempt.marker] = mayBeStored[attempt.marker] || attempt.status == 0 || attempt.status == 201 || unknown;
    if (attempt.status != 201) continue;
    ++tally.created;
    const auto rows = rowsOf.find(attempt.marker);
    EXPECT_NE(rows, rowsOf.end()) << "order " << attempt.id << " answered 201 but is not stored";
    if (rows != rowsOf.end()) {
      EXPECT_EQ(rows->second, std::vector<std::int64_t>{attempt.id}) << "marker " << attempt.marker;
    }
  }
  for (const auto& [marker, rows] : rowsOf) {
    EXPECT_EQ(rows.size(), 1u) << "marker " << marker << " stored more than once";
    if (!mayBeStored[marker]) {
      ++tally.storedBehindNotCreated;
      ADD_FAILURE() << "marker " << marker << " is stored though every answer said it was not created";
    }
  }
  for (const Attempt& attempt : attempts) {
    if (attempt.problemType == kOutcomeUnknown && rowsOf.contains(attempt.marker)) ++tally.storedBehindUnknown;
  }
  EXPECT_GT(tally.created, 100u) << "too little load to mean anything";
  std::cout << "201: " << tally.created << ", outcome unknown: " << tally.outcomeUnknown << " (stored: "
            << tally.storedBehindUnknown << "), stored behind \"not created\": " << tally.storedBehindNotCreated << "\n";
  return tally;
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

/// A free port above the kernel's ephemeral range, picked at random: another throwaway server,
/// which takes the first free port from 55432, must not take this one's while it is down, or the
/// service would reconnect to that server's database.
std::string freeHighPort() {
  std::random_device random;
  for (int attempt = 0; attempt < 50; ++attempt) {
    const auto port = static_cast<std::uint16_t>(61000 + random() % 4000);
    try {
      Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", port));
      return std::to_string(port);
    } catch (const Poco::Exception&) {
    }
  }
  throw std::runtime_error("no free port from 61000 to 64999");
}

class OrdersUnderLoad : public ServiceTest {};

/// A PostgreSQL server of the test's own, which it stops and starts (the shared one it may not).
class OrdersDuringDatabaseRestart : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (database_->backendName() != "postgresql") GTEST_SKIP() << "an embedded SQLite database has no server to restart";
    // It stops and starts a server of its own on one port, where a copy behind the pooler could start its own.
    if (database_->storageSettings()["pooler"] == "transaction") GTEST_SKIP() << "connects to its own server, not the pooler";
    // Once pg_ctl has started it, the server is this process's child, which killServer can reap at
    // once: until it is reaped a killed server still "runs" and may not be started again (init
    // reaped such orphans only every 2 s on the test machine).
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    admin_ = shell(startCommand() + " " + freeHighPort());
    Poco::Data::PostgreSQL::Connector::registerConnector();
    Poco::Data::Session("PostgreSQL", admin_) << "CREATE DATABASE orders", now;
    config_->set("storage-postgres.connection", admin_ + " dbname=orders connect_timeout=2");
    config_->set("storage.reconnect_backoff_ms", "100");
    // A request's database work, and finding out what became of it, end within 2.4 s.
    config_->set("storage.statement_timeout_ms", "1500");
  }

  /// fsync=off: a server that was killed fsyncs its whole data folder before it recovers, which took
  /// 3.6 s of each start. What a killed server wrote is not lost without it: every commit reached
  /// the kernel before it was acknowledged, and the kernel outlives the process.
  std::string startCommand() const {
    return "PG_OPTIONS='-c fsync=off' " + scripts_ + "pg-throwaway.sh start " + server_dir_.path().string();
  }

  /// kill -9 of the server and its processes: no shutdown, commits in flight are cut mid-way.
  void killServer() {
    const std::string pid = shell("head -1 " + server_dir_.path().string() + "/data/postmaster.pid");
    shell("pkill -9 -P " + pid + "; kill -9 " + pid);
    if (waitpid(std::stoi(pid), nullptr, 0) < 0) {  // not our child after all: wait until whoever reaps it did
      EXPECT_TRUE(eventually([&] { return kill(std::stoi(pid), 0) != 0; })) << "the killed server is still there";
    }
  }
  void startDatabase() { shell(startCommand()); }

  void TearDown() override {
    if (!admin_.empty()) shell(scripts_ + "pg-throwaway.sh stop " + server_dir_.path().string());
  }

  Poco::Data::Session orders() const { return Poco::Data::Session("PostgreSQL", admin_ + " dbname=orders"); }

  /// The service's WARN and ERROR lines (at most 20), to tell why a request failed.
  /// Each distinct WARN or ERROR (its message and cause), and "Database reachable again", once in
  /// order of first appearance, with its count and the times of its first and last line.
  std::string warningsAndErrors() const {
    std::vector<std::string> order;
    std::map<std::string, std::tuple<int, std::string, std::string>> seen;  // count, first, last
    for (const std::string& line : server_->lines()) {
      const bool notable = line.find("\"level\":\"WARN\"") != std::string::npos ||
                           line.find("\"level\":\"ERROR\"") != std::string::npos ||
                           line.find("\"Database reachable again\"") != std::string::npos;
      if (!notable) continue;
      const svc::json::Value entry = svc::json::parse(line);
      std::string key = entry.find("message")->text();
      for (const char* field : {"cause", "reason", "error"}) {
        if (const svc::json::Value* why = entry.find(field)) {
          key += ": " + why->text().substr(0, 160);
          break;
        }
      }
      const std::string& time = entry.find("timestamp")->text();
      auto [found, added] = seen.try_emplace(key, 0, time, time);
      if (added) order.push_back(key);
      ++std::get<0>(found->second);
      std::get<2>(found->second) = time;
    }
    std::string events;
    for (const std::string& key : order) {
      const auto& [count, first, last] = seen.at(key);
      events += first + ".." + last + " " + std::to_string(count) + "x " + key + "\n";
    }
    return events;
  }

  const std::string scripts_ = std::string(ORDER_SERVICE_SOURCE_DIR) + "/scripts/";
  TempDir server_dir_;
  std::string admin_;
};

}  // namespace

TEST_F(OrdersDuringDatabaseRestart, AnswersQuicklyRecoversByItselfAndLosesNoOrder) {
  constexpr std::size_t kUnavailableWhileDown = 10;
  startServer();
  OrderLoad load(port_, 8);
  ASSERT_TRUE(load.awaitAttempts(atLeast(kWarmLoad, Outcome::Created), 10s)) << "no load";
  const auto stopping = Clock::now();
  shell(scripts_ + "pg-throwaway.sh stop " + server_dir_.path().string());
  load.awaitAttempts(atLeast(kUnavailableWhileDown + 1, Outcome::NotCreated, stopping + 500ms), 5s);
  startDatabase();
  const auto restarted = Clock::now();
  // Enough orders after the restart for every pooled connection to have served many of them.
  load.awaitAttempts(atLeast(200, Outcome::Created, restarted), 5s);
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
  EXPECT_EQ(failedAfterRecovery, 0) << "stale pooled sessions failed requests after the recovery; the service said:\n"
                                    << warningsAndErrors();
  EXPECT_GT(unavailableWhileDown, kUnavailableWhileDown) << "503s while the database was down";
  expectExactlyOnce(attempts, orders());
}

TEST_F(OrdersDuringDatabaseRestart, NeverSaysNotCreatedForAStoredOrderWhenTheDatabaseIsKilled) {
  startServer();
  OrderLoad load(port_, 16);
  auto since = Clock::time_point{};
  for (int round = 0; round < 2; ++round) {
    // Orders are being committed when it dies, and every client has seen it gone before it returns.
    ASSERT_TRUE(load.awaitAttempts(atLeast(kWarmLoad, Outcome::Created, since), 10s)) << "round " << round;
    killServer();
    load.awaitAttempts(atLeast(16, Outcome::NotCreated, Clock::now()), 5s);
    startDatabase();
    since = Clock::now();
  }
  EXPECT_TRUE(load.awaitAttempts(atLeast(kWarmLoad, Outcome::Created, since), 10s)) << "not served after the restart";
  load.stop();

  const std::vector<Attempt> attempts = load.attempts();
  for (const Attempt& attempt : attempts) {
    EXPECT_TRUE(attempt.status == 201 || attempt.status == 503) << "status " << attempt.status << " " << attempt.failure;
    EXPECT_LT(attempt.answered - attempt.sent, 3s) << "a request hung";
  }
  EXPECT_EQ(expectExactlyOnce(attempts, orders()).storedBehindNotCreated, 0u);
}

TEST_F(OrdersDuringDatabaseRestart, KeysOfFailedRequestsAreRetryableSoonAfterTheDatabaseReturns) {
  constexpr int kClients = 16;
  startServer();
  OrderLoad load(port_, kClients, true);
  ASSERT_TRUE(load.awaitAttempts(atLeast(kWarmLoad, Outcome::Created), 10s)) << "no load";
  killServer();
  load.awaitAttempts(atLeast(32, Outcome::NotCreated, Clock::now()), 5s);  // each client failed and retried
  startDatabase();
  const auto restarted = Clock::now();
  // A client moves on to a new key only once its key was created: when the last order of every
  // client was created after the database returned, every key that failed was.
  load.awaitAttempts([&](const std::vector<Attempt>& attempts) {
    std::map<int, const Attempt*> last;
    for (const Attempt& attempt : attempts) last[attempt.client] = &attempt;
    return last.size() == kClients && std::all_of(last.begin(), last.end(), [&](const auto& client) {
             return client.second->status == 201 && client.second->sent > restarted;
           });
  }, 4s);
  load.stop();

  const std::vector<Attempt> attempts = load.attempts();
  std::map<std::int64_t, Clock::time_point> failedAt;  // by marker: when its first failure was answered
  Clock::duration longestRetryDelay{0};
  int conflictsAfterReturn = 0;
  std::size_t succeededAfterFailing = 0;
  for (const Attempt& attempt : attempts) {
    if (attempt.status != 201) {
      failedAt.emplace(attempt.marker, attempt.answered);
      conflictsAfterReturn += attempt.status == 409 && attempt.sent > restarted + 3s;
    } else if (failedAt.contains(attempt.marker)) {
      ++succeededAfterFailing;
      longestRetryDelay = std::max(longestRetryDelay, attempt.answered - std::max(restarted, failedAt[attempt.marker]));
    }
  }
  std::cout << "keys that failed: " << failedAt.size() << ", of which created on a retry: " << succeededAfterFailing
            << ", longest delay after the database returned: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(longestRetryDelay).count()
            << " ms; 409s more than 3 s after it returned: " << conflictsAfterReturn << "\n";
  EXPECT_GT(failedAt.size(), 0u) << "no request failed: the kill came at no time";
  EXPECT_EQ(succeededAfterFailing, failedAt.size()) << "keys still not created 4 s after the database returned";
  EXPECT_LT(longestRetryDelay, 3s) << "a key stayed locked after the database returned";
  EXPECT_EQ(conflictsAfterReturn, 0);
  EXPECT_EQ(expectExactlyOnce(attempts, orders()).storedBehindNotCreated, 0u);
}

/// The connections between service and database are cut while orders are posted.
class OrdersWhileConnectionsAreCut : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (database_->backendName() != "postgresql") GTEST_SKIP() << "an embedded SQLite database has no connection to cut";
    config_->set("storage.reconnect_backoff_ms", "50");
    config_->set("storage.statement_timeout_ms", std::to_string(kStatementTimeout.count()));
    outage_ = std::make_unique<StorageOutage>(*database_, *config_);
  }

  static constexpr std::chrono::milliseconds kStatementTimeout{1500};

  std::unique_ptr<StorageOutage> outage_;
};

TEST_F(OrdersWhileConnectionsAreCut, NeverSaysNotCreatedForAStoredOrder) {
  startServer();
  OrderLoad load(port_, 16);
  auto since = Clock::time_point{};
  for (int cut = 0; cut < 10; ++cut) {
    // Orders are being committed when the connections are cut.
    ASSERT_TRUE(load.awaitAttempts(atLeast(20, Outcome::Created, since), 10s)) << "cut " << cut;
    outage_->takeDatabaseAway();
    std::this_thread::sleep_for(100ms);
    outage_->bringDatabaseBack();
    since = Clock::now();
  }
  EXPECT_TRUE(load.awaitAttempts(atLeast(kWarmLoad, Outcome::Created, since), 10s)) << "not served after the last cut";
  load.stop();

  // Behind a pooler, which hides whether a cut write can still commit, the service looks for it as
  // soon as the database can be read again (here 100 ms after each cut), well within the statement
  // timeout. It once waited there until the work deadline + 250 ms for an end it could never see,
  // holding the POSTs batched after the write as long.
  const bool behindPooler = database_->storageSettings()["pooler"] == "transaction";
  const std::vector<Attempt> attempts = load.attempts();
  for (const Attempt& attempt : attempts) {
    EXPECT_TRUE(attempt.status == 201 || attempt.status == 503) << "status " << attempt.status << " " << attempt.failure;
    if (behindPooler) {
      EXPECT_LT(attempt.answered - attempt.sent, kStatementTimeout) << "status " << attempt.status;
    }
  }
  EXPECT_EQ(expectExactlyOnce(attempts, database_->connect()).storedBehindNotCreated, 0u);
}

TEST_F(OrdersUnderLoad, SigtermFinishesRequestsInProgressAndLosesNoOrder) {
  config_->set("server.shutdown_grace_ms", "5000");
  startServer();
  OrderLoad load(port_, 8);
  ASSERT_TRUE(load.awaitAttempts(atLeast(kWarmLoad, Outcome::Created), 10s)) << "no load";
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
