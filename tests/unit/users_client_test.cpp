// How order creation reads the User Service's answers (the e2e tests call a real one).
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/users_client.h"

using namespace std::chrono_literals;

namespace {

/// An upstream that answers each call at once with the next of its scripted outcomes.
class ScriptedUpstream final : public svc::Upstream {
 public:
  const std::string& name() const override { return name_; }
  void call(svc::UpstreamRequest request, svc::Completion<svc::UpstreamResponse> done) override {
    targets.push_back(request.target);
    auto outcome = std::move(outcomes.front());
    outcomes.pop_front();
    done(std::move(outcome));
  }

  std::deque<svc::Result<svc::UpstreamResponse>> outcomes;
  std::vector<std::string> targets;

 private:
  std::string name_ = "users";
};

svc::Result<svc::UpstreamResponse> answer(int status, std::string contentType = "application/json", std::string body = "{}") {
  return svc::UpstreamResponse{.status = status, .body = std::move(body), .headers = {{"Content-Type", std::move(contentType)}}};
}

/// The User Service's answer for a user that does not exist.
svc::Result<svc::UpstreamResponse> unknownUser() {
  return answer(404, "application/problem+json",
                R"({"type":"about:blank","title":"Not Found","status":404,"detail":"User 5 does not exist"})");
}

/// What ensureExists completes with: the user, or the error it gives.
svc::Result<orders::KnownUser> ask(orders::UsersClient& client, std::int32_t userId) {
  std::optional<svc::Result<orders::KnownUser>> result;
  client.ensureExists(userId, [&](svc::Result<orders::KnownUser> user) { result.emplace(std::move(user)); });
  return std::move(*result);
}

}  // namespace

TEST(UsersClient, AsksForTheUserAndRemembersAnExistingOneForItsTtl) {
  ScriptedUpstream users;
  orders::UsersClient client(users, 60s, 100);
  users.outcomes.push_back(answer(200));
  EXPECT_EQ(ask(client, 42).value().userId, 42);
  EXPECT_EQ(ask(client, 42).value().userId, 42) << "the second time from the cache";
  EXPECT_EQ(users.targets, std::vector<std::string>{"/users/42"});
}

TEST(UsersClient, AsksAgainOnceTheTtlRanOut) {
  ScriptedUpstream users;
  orders::UsersClient client(users, 0ms, 100);
  users.outcomes = {answer(200), answer(200)};
  ask(client, 7).value();
  ask(client, 7).value();
  EXPECT_EQ(users.targets.size(), 2u);
}

TEST(UsersClient, AnUnknownUserIsAnInvalidOrderPointingAtUserIdAndIsNotRemembered) {
  ScriptedUpstream users;
  orders::UsersClient client(users, 60s, 100);
  users.outcomes = {unknownUser(), answer(200)};
  try {
    ask(client, 5).value();
    ADD_FAILURE() << "an unknown user was taken";
  } catch (const svc::Invalid& invalid) {
    ASSERT_EQ(invalid.errors().size(), 1u);
    EXPECT_EQ(invalid.errors()[0].pointer, "/user_id");
  }
  EXPECT_EQ(ask(client, 5).value().userId, 5) << "a user created meanwhile is seen at once";
}

TEST(UsersClient, AnyOtherAnswerFailureOrTimeoutIsUnavailableNeverAnInvalidOrder) {
  ScriptedUpstream users;
  orders::UsersClient client(users, 60s, 100);
  users.outcomes.push_back(answer(400));
  EXPECT_THROW(ask(client, 1).value(), svc::UpstreamUnavailable);
  users.outcomes.push_back(svc::Result<svc::UpstreamResponse>(std::make_exception_ptr(svc::TimedOut("no answer"))));
  EXPECT_THROW(ask(client, 1).value(), svc::UpstreamUnavailable) << "an order waits no longer: 503, not 504";
  users.outcomes.push_back(svc::Result<svc::UpstreamResponse>(
      std::make_exception_ptr(svc::UpstreamUnavailable("users", "breaker open", 1s))));
  EXPECT_THROW(ask(client, 1).value(), svc::UpstreamUnavailable);
}

TEST(UsersClient, AFullCacheStillAnswers) {
  ScriptedUpstream users;
  orders::UsersClient client(users, 60s, 2);
  for (int id = 1; id <= 5; ++id) users.outcomes.push_back(answer(200));
  for (int id = 1; id <= 5; ++id) EXPECT_EQ(ask(client, id).value().userId, id);
  EXPECT_EQ(users.targets.size(), 5u);
}

TEST(UsersClient, A404ThatDoesNotSayTheUserIsUnknownIsUnavailableNeverAnInvalidOrder) {
  ScriptedUpstream users;
  orders::UsersClient client(users, 60s, 100);
  users.outcomes = {
      answer(404, "application/problem+json",
             R"({"type":"/problems/no-route","title":"Not Found","status":404,"detail":"Nothing is served at /users/5"})"),
      answer(404, "text/html", "<html><body>404 Not Found</body></html>"),
      answer(404, "application/problem+json", "not json"),
  };
  for (const char* answered : {"a service without the route", "a proxy's page", "a broken problem"}) {
    EXPECT_THROW(ask(client, 5).value(), svc::UpstreamUnavailable) << answered;
  }
  users.outcomes.push_back(unknownUser());
  EXPECT_THROW(ask(client, 5).value(), svc::Invalid) << "the User Service's own 404";
}
