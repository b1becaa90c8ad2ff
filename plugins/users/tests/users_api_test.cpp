// The users API through the real server of User Service, on every backend: what each request
// answers (status, body, headers) and what it leaves in the users table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "user_service_fixture.h"

namespace {

using test_support::expectProblem;
using test_support::Headers;
using test_support::HttpClient;
using test_support::HttpResponse;

const Headers kJson = {{"Content-Type", "application/json"}};

std::string userBody(const std::string& email, const std::string& name) {
  return svc::json::ObjectWriter().add("email", email).add("name", name).str();
}

/// Each error of a problem document, "pointer: detail".
std::vector<std::string> fieldErrors(const HttpResponse& problem) {
  std::vector<std::string> errors;
  const svc::json::Value body = problem.json();
  const svc::json::Value* list = body.find("errors");
  if (list == nullptr) return errors;
  for (const svc::json::Value& error : list->items()) {
    errors.push_back(error.find("pointer")->text() + ": " + error.find("detail")->text());
  }
  return errors;
}

/// A member of the JSON object answered, as text; "" when the answer has none.
std::string member(const HttpResponse& response, const std::string& name) {
  const svc::json::Value body = response.json();
  const svc::json::Value* value = body.isObject() ? body.find(name) : nullptr;
  return value == nullptr ? "" : value->text();
}

/// `email` with the letters whose bit in `variant` is set in upper case.
std::string casedVariant(std::string email, unsigned variant) {
  for (std::size_t i = 0; i < email.size() && i < 32; ++i) {
    if ((variant >> i) & 1U) email[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(email[i])));
  }
  return email;
}

class UsersApi : public users_test::UserServiceTest {
 protected:
  void SetUp() override {
    UserServiceTest::SetUp();
    startServer();
  }
};

TEST_F(UsersApi, CreatesAUserAndReturnsIt) {
  HttpClient http = client();
  const HttpResponse created = http.request("POST", "/users", userBody("Ann@Example.com", "  Ann Smith "),
                                            {{"Content-Type", "application/json"}, {"X-Request-Id", "create-ann-1"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.header("Content-Type"), "application/json");
  EXPECT_EQ(created.header("X-Request-Id"), "create-ann-1");
  const svc::json::Value user = created.json();
  ASSERT_EQ(user.members().size(), 4u) << created.body;
  const std::int64_t id = user.find("user_id")->asInt64().value_or(0);
  EXPECT_GE(id, 1);
  EXPECT_EQ(user.find("email")->text(), "Ann@Example.com");
  EXPECT_EQ(user.find("name")->text(), "Ann Smith");
  EXPECT_TRUE(test_support::isRfc3339Millis(user.find("created_at")->text())) << created.body;
  EXPECT_EQ(created.header("Location"), "/users/" + std::to_string(id));
  EXPECT_EQ(users("WHERE email = 'Ann@Example.com' AND email_lower = 'ann@example.com' AND name = 'Ann Smith'"), 1);

  const HttpResponse fetched = http.get(created.header("Location"));
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.header("Content-Type"), "application/json");
  EXPECT_EQ(fetched.header("X-Request-Id").size(), 32u) << "a generated id: the client sent none";
  EXPECT_EQ(fetched.body, created.body);
}

TEST_F(UsersApi, ServesTheSameUsersUnderTheVersionedPaths) {
  HttpClient http = client();
  const HttpResponse created = http.postJson("/api/v1/users", userBody("bob@example.com", "Bob"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = std::to_string(created.json().find("user_id")->asInt64().value_or(0));
  EXPECT_EQ(created.header("Location"), "/api/v1/users/" + id);
  EXPECT_EQ(http.get("/api/v1/users/" + id).body, created.body);
  EXPECT_EQ(http.get("/users/" + id).body, created.body);

  const HttpResponse plain = http.postJson("/users", userBody("carol@example.com", "Carol"));
  ASSERT_EQ(plain.status, 201) << plain.body;
  EXPECT_EQ(http.get("/api/v1/users/" + std::to_string(plain.json().find("user_id")->asInt64().value_or(0))).body,
            plain.body);
}

TEST_F(UsersApi, AnswersNotFoundForAnUnknownUserAndBadRequestForABadId) {
  HttpClient http = client();
  for (const std::string prefix : {"/users", "/api/v1/users"}) {
    const HttpResponse missing = http.get(prefix + "/4242");
    expectProblem(missing, 404);
    EXPECT_EQ(member(missing, "detail"), "User 4242 does not exist");
    EXPECT_FALSE(missing.header("X-Request-Id").empty());
    expectProblem(http.get(prefix + "/abc"), 400);
    expectProblem(http.get(prefix + "/0"), 400);
  }
}

TEST_F(UsersApi, RefusesAnEmailAnotherUserHasInAnyCase) {
  HttpClient http = client();
  ASSERT_EQ(http.postJson("/users", userBody("dana@example.com", "Dana")).status, 201);
  for (const std::string path : {"/users", "/api/v1/users"}) {
    const HttpResponse taken = http.postJson(path, userBody("Dana@EXAMPLE.com", "Another Dana"));
    expectProblem(taken, 409);
    EXPECT_EQ(member(taken, "type"), "about:blank");
    EXPECT_NE(member(taken, "detail").find("already exists"), std::string::npos) << taken.body;
  }
  EXPECT_EQ(users(), 1);
  EXPECT_EQ(users("WHERE email = 'dana@example.com' AND name = 'Dana'"), 1) << "the first one is kept as it was";
}

TEST_F(UsersApi, OfConcurrentRequestsForOneAddressExactlyOneCreatesTheUser) {
  constexpr int kRequests = 8;
  std::vector<int> statuses(kRequests);
  std::latch ready(kRequests);
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i) {
    clients.emplace_back([&, i] {
      HttpClient http = client();
      ready.arrive_and_wait();
      statuses[i] = http.postJson("/users", userBody(casedVariant("erin@example.com", i), "Erin")).status;
    });
  }
  for (std::thread& thread : clients) thread.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), kRequests - 1);
  EXPECT_EQ(users(), 1);
}

TEST_F(UsersApi, NamesEveryInvalidFieldInOneProblem) {
  HttpClient http = client();
  const HttpResponse both = http.postJson("/users", userBody("frank.example.com", "   "));
  expectProblem(both, 422);
  EXPECT_EQ(member(both, "type"), "/problems/validation-error");
  EXPECT_EQ(member(both, "title"), "The user is invalid");
  EXPECT_EQ(fieldErrors(both), (std::vector<std::string>{"/email: email must contain exactly one '@'",
                                                         "/name: name must not be empty or only spaces"}));

  const HttpResponse wrongTypes = http.postJson("/api/v1/users", R"({"email":5,"name":null,"role":"admin"})");
  expectProblem(wrongTypes, 422);
  EXPECT_EQ(fieldErrors(wrongTypes), (std::vector<std::string>{"/email: email must be a string, not a number",
                                                               "/name: name must be a string, not null"}));

  EXPECT_EQ(fieldErrors(http.postJson("/users", "{}")),
            (std::vector<std::string>{"/email: email is required", "/name: name is required"}));
  EXPECT_EQ(fieldErrors(http.postJson("/users", "[]")),
            std::vector<std::string>{": the body must be a JSON object, not an array"});
  EXPECT_EQ(fieldErrors(http.postJson("/users", userBody("g@example.com", std::string(201, 'g')))),
            std::vector<std::string>{"/name: name must be at most 200 characters, not 201"});
  EXPECT_EQ(fieldErrors(http.postJson("/users", userBody(std::string(243, 'g') + "@example.com", "G"))),
            std::vector<std::string>{"/email: email must be at most 254 characters, not 255"});
  EXPECT_EQ(users(), 0);
}

TEST_F(UsersApi, AcceptsTheLongestValuesAndIgnoresUnknownMembers) {
  const std::string email = std::string(242, 'h') + "@example.com";
  const std::string name(200, 'H');
  const HttpResponse created =
      client().postJson("/users", R"({"id":99,"email":")" + email + R"(","name":" )" + name + R"( ","admin":true})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(member(created, "email"), email);
  EXPECT_EQ(member(created, "name"), name);
  EXPECT_EQ(users(), 1);
}

TEST_F(UsersApi, RefusesABodyThatIsNotJsonOrNotDeclaredAsJson) {
  HttpClient http = client();
  expectProblem(http.postJson("/users", R"({"email":"ivy@example.com")"), 400);
  expectProblem(http.postJson("/users", ""), 400);
  expectProblem(http.postJson("/users", R"({"email":"a@b.c","email":"d@e.f","name":"Ivy"})"), 400);
  expectProblem(http.request("POST", "/users", userBody("ivy@example.com", "Ivy"), {{"Content-Type", "text/plain"}}), 415);
  expectProblem(http.request("POST", "/api/v1/users", userBody("ivy@example.com", "Ivy"),
                             {{"Content-Type", "application/x-www-form-urlencoded"}}),
                415);
  EXPECT_EQ(users(), 0);
  EXPECT_EQ(http.request("POST", "/users", userBody("ivy@example.com", "Ivy")).status, 201)
      << "a body without Content-Type is read as JSON";
}

TEST_F(UsersApi, AnswersHeadAndOptionsAndRefusesOtherMethods) {
  HttpClient http = client();
  const HttpResponse created = http.postJson("/users", userBody("jo@example.com", "Jo"));
  ASSERT_EQ(created.status, 201);
  const HttpResponse head = http.request("HEAD", created.header("Location"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(created.body.size()));
  EXPECT_EQ(http.request("OPTIONS", "/users").header("Allow"), "POST, OPTIONS");
  EXPECT_EQ(http.request("OPTIONS", "/api/v1/users/1").header("Allow"), "GET, HEAD, OPTIONS");
  const HttpResponse list = http.get("/users");
  expectProblem(list, 405);
  EXPECT_EQ(list.header("Allow"), "POST, OPTIONS");
  expectProblem(http.request("DELETE", created.header("Location")), 405);
}

}  // namespace
