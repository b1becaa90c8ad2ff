// Order creation that validates the user (issue 18): Order Service and User Service as two real
// processes on databases of their own, and User Service failing while orders take traffic.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Exception.h>

#include "e2e/orders_support.h"
#include "support/fake_upstream.h"
#include "support/server_process.h"
#include "support/service_fixture.h"
#include "support/tcp_proxy.h"

using namespace test_support;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUsersTimeout = 300ms;
// An answer to a refused order may take the call's timeout and the host's own work: well under this.
constexpr auto kBoundedAnswer = kUsersTimeout + 700ms;

std::string orderFor(std::int64_t userId) {
  return R"({"user_id":)" + std::to_string(userId) + R"(,"product_id":456,"quantity":2})";
}

/// One answer the traffic got: when it was sent, what it was and how long it took.
struct Answer {
  Clock::time_point sent;
  Clock::duration latency;
  int status = 0;  ///< 0: no answer (the client gave up after 5 s)
  std::string retryAfter;
  std::string body;  ///< of an answer other than 201
};

/// POST /orders for one user, one after another, until stopped: orders taking traffic.
class OrderTraffic {
 public:
  OrderTraffic(std::uint16_t port, std::int64_t userId)
      : thread_([this, port, body = orderFor(userId)] { run(port, body); }) {}
  ~OrderTraffic() { stop(); }

  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }

  std::vector<Answer> answers() const {
    std::lock_guard lock(mutex_);
    return answers_;
  }

  /// "status x count" of each status answered to what was sent after `sentAfter`: what came
  /// instead, when a test waited in vain.
  std::string tally(Clock::time_point sentAfter = {}) const {
    std::map<int, int> statuses;
    for (const Answer& answer : answers()) {
      if (answer.sent >= sentAfter) ++statuses[answer.status];
    }
    std::string text;
    for (const auto& [status, count] : statuses) {
      text += (text.empty() ? "" : ", ") + std::to_string(status) + " x " + std::to_string(count);
    }
    return text.empty() ? "no answer" : text;
  }

  std::size_t count(int status, Clock::time_point sentAfter = {}) const {
    std::lock_guard lock(mutex_);
    return std::count_if(answers_.begin(), answers_.end(),
                         [&](const Answer& answer) { return answer.status == status && answer.sent >= sentAfter; });
  }

 private:
  void run(std::uint16_t port, const std::string& body) {
    auto http = std::make_unique<HttpClient>(port, 5s);
    while (running_) {
      Answer answer{.sent = Clock::now()};
      try {
        const HttpResponse response = http->postJson("/orders", body);
        answer.status = response.status;
        answer.retryAfter = response.header("Retry-After");
        if (response.status != 201) answer.body = response.body;
      } catch (const Poco::Exception&) {
        http = std::make_unique<HttpClient>(port, 5s);
      }
      answer.latency = Clock::now() - answer.sent;
      {
        std::lock_guard lock(mutex_);
        answers_.push_back(answer);
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  std::atomic<bool> running_{true};
  mutable std::mutex mutex_;
  std::vector<Answer> answers_;
  std::thread thread_;
};

class OrdersWithUsers : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    usersDatabase_ = TestDatabase::create(backendUnderTest());
    usersPort_ = unusedPort();
    startUsers();
  }

  void TearDown() override {
    if (server_) stopServer();
    if (users_) stopUsers();
  }

  /// User Service as it ships (config/user-service.ini, .postgres.ini on PostgreSQL) on usersPort_;
  /// without its users plugin, the host alone serves there.
  void startUsers(bool withUsersPlugin = true) {
    ServiceConfig config(usersDatabase_.get(), std::vector<RoutePluginUnderTest>{});
    const std::string shipped = usersDatabase_->backendName() == "sqlite" ? "user-service.ini" : "user-service.postgres.ini";
    config.set("config.base", (std::filesystem::path(ORDER_SERVICE_APP_DIR) / "config" / shipped).string());
    config.remove("plugins.route.orders");
    if (!withUsersPlugin) config.set("plugins.route.users", "");
    config.set("server.port", std::to_string(usersPort_));
    const std::string file = config.write(directory_.path(), "users.ini").string();
    users_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--config=" + file});
    users_->waitUntilServing();
  }

  void stopUsers(int signal = SIGTERM) {
    users_->signal(signal);
    users_->waitForExit();
    users_.reset();
  }

  std::string usersUrl() const { return "http://127.0.0.1:" + std::to_string(usersPort_); }

  /// Order Service validating users at `url`, every order asking (no cache), calls of 300 ms at most.
  void startOrders(const std::string& url) {
    config_->set("orders.users_url", url);
    config_->set("orders.users_timeout_ms", std::to_string(kUsersTimeout.count()));
    config_->set("orders.users_cache_ttl_ms", "0");
    startServer();
  }

  std::int64_t createUser(const std::string& email) {
    const HttpResponse created =
        HttpClient(usersPort_).postJson("/users", R"({"email":")" + email + R"(","name":"Ada"})");
    EXPECT_EQ(created.status, 201) << created.body;
    return *created.json().find("user_id")->asInt64();
  }

  HttpResponse orderCarrying(const std::string& requestId, std::int64_t user) {
    return client().request("POST", "/orders", orderFor(user),
                            {{"Content-Type", "application/json"}, {"X-Request-Id", requestId}});
  }

  double breakerState() {
    return metricSample(client().get("/metrics").body, R"(upstream_breaker_state{upstream="users"})").value_or(-1);
  }

  /// Orders flow for an existing user; `fault` breaks User Service and `heal` brings it back
  /// (returning once it answers again). Checks what every answer and the database say, and
  /// prints the fault's row of the table: statuses, slowest answer, orders stored, recovery.
  void survive(const std::string& name, const std::function<void()>& fault, const std::function<void()>& heal) {
    std::string mailbox = name;
    std::replace(mailbox.begin(), mailbox.end(), ' ', '-');
    const std::int64_t user = createUser(mailbox + "@example.com");
    OrderTraffic traffic(port_, user);
    ASSERT_TRUE(eventually([&] { return traffic.count(201) >= 5; })) << "orders flow before the fault: " << traffic.tally();

    const Clock::time_point brokenAt = Clock::now();
    fault();
    ASSERT_TRUE(eventually([&] { return traffic.count(503, brokenAt) >= 10; })) << "orders refused during the fault: " << traffic.tally(brokenAt);
    EXPECT_TRUE(server_->waitForLine("Upstream circuit breaker opened", 5s)) << "the breaker opened";
    EXPECT_EQ(breakerState(), 2) << "open, while the user service fails";

    heal();
    const Clock::time_point healedAt = Clock::now();
    ASSERT_TRUE(eventually([&] { return traffic.count(201, healedAt) >= 5; })) << "orders flow again: " << traffic.tally(healedAt);
    traffic.stop();

    const std::vector<Answer> answers = traffic.answers();
    std::map<int, int> statuses;
    Clock::duration slowest{};
    std::optional<Clock::time_point> recoveredAt;
    const auto ms = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    const Answer* unexpected = nullptr;  // the first answer breaking a rule: one failure, with its body
    for (const Answer& answer : answers) {
      ++statuses[answer.status];
      slowest = std::max(slowest, answer.latency);
      const bool truthful = answer.status == 201 || (answer.status == 503 && !answer.retryAfter.empty());
      if (!unexpected && (!truthful || answer.latency > kBoundedAnswer)) unexpected = &answer;
      if (answer.status == 201 && answer.sent >= healedAt && !recoveredAt) recoveredAt = answer.sent + answer.latency;
    }
    if (unexpected) {
      ADD_FAILURE() << "every answer is a 201, or a 503 saying when to retry, within "
                    << ms(kBoundedAnswer) << " ms; the first that is not: " << unexpected->status << " after "
                    << ms(unexpected->latency) << " ms, "
                    << (unexpected->sent < brokenAt ? "before the fault" : unexpected->sent < healedAt ? "during it" : "after it")
                    << ", Retry-After \"" << unexpected->retryAfter << "\": " << unexpected->body;
    }
    ASSERT_TRUE(recoveredAt.has_value());
    EXPECT_LE(*recoveredAt - healedAt, 1s) << "orders are created again within 1 s of the user service answering";
    EXPECT_EQ(countOrders(*database_), statuses[201]) << "an order for each 201, none for a refusal";
    EXPECT_TRUE(server_->waitForLine("Upstream circuit breaker closed", 2s)) << "the breaker closed";
    EXPECT_EQ(breakerState(), 0);

    std::printf("fault %-12s | 201: %d, 503: %d, other: %zu | slowest %lld ms | orders stored %lld | recovered in %lld ms\n",
                name.c_str(), statuses[201], statuses[503], answers.size() - statuses[201] - statuses[503],
                static_cast<long long>(ms(slowest)), static_cast<long long>(countOrders(*database_)),
                static_cast<long long>(ms(*recoveredAt - healedAt)));
  }

  std::unique_ptr<TestDatabase> usersDatabase_;
  std::uint16_t usersPort_ = 0;
  std::unique_ptr<ServerProcess> users_;
};

TEST_F(OrdersWithUsers, CreatesAnOrderForAnExistingUserAndRefusesAnUnknownOneStoringNothing) {
  startOrders(usersUrl());
  const std::int64_t user = createUser("grace@example.com");

  const HttpResponse created = orderCarrying("phase2-known-user", user);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.header("X-Request-Id"), "phase2-known-user");

  const HttpResponse refused = client().postJson("/orders", orderFor(user + 1000));
  expectProblem(refused, 422);
  EXPECT_NE(refused.body.find("\"/user_id\""), std::string::npos) << refused.body;
  EXPECT_EQ(countOrders(*database_), 1) << "nothing stored for the unknown user";
}

TEST_F(OrdersWithUsers, CarriesTheRequestIdIntoBothServicesLogs) {
  startOrders(usersUrl());
  const std::int64_t user = createUser("linus@example.com");
  const HttpResponse created = orderCarrying("phase2-correlated", user);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_TRUE(server_->waitForLine(R"("request_id":"phase2-correlated")")) << "Order Service's log";
  const auto usersLine = users_->waitForLine(R"("request_id":"phase2-correlated")");
  ASSERT_TRUE(usersLine) << "User Service's log";
  EXPECT_NE(usersLine->find("/users/" + std::to_string(user)), std::string::npos) << *usersLine;
}

TEST_F(OrdersWithUsers, ReplaysAKeyedOrderWithoutAskingTheUserServiceAgain) {
  startOrders(usersUrl());
  const std::int64_t user = createUser("barbara@example.com");
  const Headers keyed{{"Content-Type", "application/json"}, {"Idempotency-Key", "phase2-replay"}};
  ASSERT_EQ(client().request("POST", "/orders", orderFor(user), keyed).status, 201);
  stopUsers(SIGKILL);
  const HttpResponse replay = client().request("POST", "/orders", orderFor(user), keyed);
  EXPECT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(countOrders(*database_), 1);
}

// users_url naming a service that does not serve GET /users/{id} says nothing of the user: the
// order cannot be checked now (503), and the client is not told that its user_id is wrong.
TEST_F(OrdersWithUsers, AnswersUnavailableNotInvalidWhenUsersUrlNamesAServiceWithoutUsers) {
  stopUsers();
  startUsers(false);
  startOrders(usersUrl());
  const HttpResponse refused = client().postJson("/orders", orderFor(1));
  expectProblem(refused, 503);
  EXPECT_EQ(refused.header("Retry-After"), "1");
  EXPECT_EQ(countOrders(*database_), 0);
}

TEST_F(OrdersWithUsers, SurvivesTheUserServiceBeingKilledAndStartedAgain) {
  startOrders(usersUrl());
  survive("killed", [&] { stopUsers(SIGKILL); }, [&] { startUsers(); });
}

TEST_F(OrdersWithUsers, SurvivesTheUserServiceRestarting) {
  startOrders(usersUrl());
  survive("restarting", [&] { stopUsers(SIGTERM); }, [&] { startUsers(); });
}

TEST_F(OrdersWithUsers, SurvivesABlackHoleBetweenTheServices) {
  TcpProxy proxy("127.0.0.1", usersPort_);
  proxy.start();
  startOrders("http://127.0.0.1:" + std::to_string(proxy.port()));
  survive("black-holed", [&] { proxy.blackHole(); }, [&] { proxy.resume(); });
}

// A user service slower than the call's budget, and one that answers 500, stand in as a fake
// whose every user exists.
TEST_F(OrdersWithUsers, SurvivesAUserServiceSlowerThanTheBudget) {
  FakeUpstream fake;
  startOrders(fake.url());
  survive("slow", [&] { fake.answer(200, 2 * kUsersTimeout); }, [&] { fake.answer(200); });
}

TEST_F(OrdersWithUsers, SurvivesAUserServiceAnswering500) {
  FakeUpstream fake;
  startOrders(fake.url());
  survive("answering 500", [&] { fake.answer(500); }, [&] { fake.answer(200); });
}

}  // namespace
