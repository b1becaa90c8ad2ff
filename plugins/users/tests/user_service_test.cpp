// User Service as it ships: started from config/user-service.ini (its PostgreSQL overlay on that
// backend), it is named user-service, listens where its file or its environment says, applies its
// own migrations once and serves its own OpenAPI document, which lists every answer it gives.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include "support/openapi.h"
#include "user_service_fixture.h"

namespace {

using test_support::HttpClient;
using test_support::HttpResponse;

const std::string kUser = R"({"email":"kim@example.com","name":"Kim"})";

class UserServiceConfig : public users_test::UserServiceTest {};

TEST_F(UserServiceConfig, RunsAsUserServiceWithOnlyTheUsersPlugin) {
  startServer();
  const auto started = logLines("Service started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].find("service_name")->text(), "user-service");
  const auto loaded = logLines("Loaded route plugin");
  ASSERT_EQ(loaded.size(), 1u) << "orders is unloaded by user-service.ini";
  EXPECT_EQ(loaded[0].find("plugin")->text(), "users");

  HttpClient http = client();
  const HttpResponse created =
      http.request("POST", "/users", kUser, {{"Content-Type", "application/json"}, {"X-Request-Id", "users-log-1"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::optional<std::string> line = server_->waitForLine("Created new user");
  ASSERT_TRUE(line.has_value());
  const svc::json::Value logged = svc::json::parse(*line);
  EXPECT_EQ(logged.find("service_name")->text(), "user-service");
  EXPECT_EQ(logged.find("request_id")->text(), "users-log-1");
  EXPECT_EQ(logged.find("user_id")->asInt64(), created.json().find("user_id")->asInt64());
  EXPECT_EQ(line->find("kim@"), std::string::npos) << "no email in the log: " << *line;
  test_support::expectProblem(http.postJson("/orders", R"({"user_id":1,"product_id":2,"quantity":3})"), 404);
}

TEST_F(UserServiceConfig, AppliesItsOwnMigrationsOnceAcrossRestarts) {
  startServer();
  EXPECT_EQ(logLines("Applied database migration").size(), 1u);
  EXPECT_EQ(database_->count("plugin_migrations",
                             "WHERE plugin = 'users' AND version = 1 AND name = '001_create_users_table.sql'"),
            1);
  EXPECT_EQ(database_->count("plugin_migrations", "WHERE plugin <> 'users'"), 0);
  const HttpResponse created = client().postJson("/users", kUser);
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(stopServer(), 0);

  startServer();
  EXPECT_TRUE(logLines("Applied database migration").empty());
  EXPECT_EQ(database_->count("plugin_migrations"), 1);
  EXPECT_EQ(client().get(created.header("Location")).body, created.body);
}

TEST_F(UserServiceConfig, ListensOnItsFilesPortUnlessItsEnvironmentVariableSaysOtherwise) {
  Poco::AutoPtr<Poco::Util::IniFileConfiguration> shipped =
      new Poco::Util::IniFileConfiguration(std::string(ORDER_SERVICE_APP_DIR) + "/config/user-service.ini");
  EXPECT_EQ(shipped->getInt("server.port"), 8081);
  Poco::AutoPtr<Poco::Util::IniFileConfiguration> overlay =
      new Poco::Util::IniFileConfiguration(users_test::userServiceConfig(*database_).string());
  EXPECT_EQ(overlay->getInt("server.port", 8081), 8081) << "the PostgreSQL overlay keeps the port";

  config_->remove("server.port");  // the test's port 0: the file's would apply
  const std::uint16_t port = test_support::unusedPort();
  startServer({{"USER_SERVICE_SERVER_PORT", std::to_string(port)},
               {"ORDER_SERVICE_SERVER_PORT", std::to_string(port == 65535 ? port - 1 : port + 1)}});
  EXPECT_EQ(port_, port);
  EXPECT_EQ(client().get("/health").status, 200);
}

TEST_F(UserServiceConfig, ServesItsOwnOpenApiDocument) {
  startServer();
  const HttpResponse served = client().get("/openapi.json");
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(served.header("Content-Type"), "application/json");
  const svc::json::Value document = served.json();
  EXPECT_EQ(document.find("info")->find("title")->text(), "User Service");
  EXPECT_EQ(test_support::documentedOperations(document),
            test_support::documentedOperations(users_test::usersOpenApiDocument()));
}

struct Call {
  std::string method;
  std::string path;
  std::string body = "";
  std::string contentType = "application/json";
  int status = 200;
};

// Every answer of a tour of the API has a status the document lists for its operation, and the
// X-Request-Id header it says the routed ones have.
TEST_F(UserServiceConfig, AnswersOnlyWhatItsDocumentLists) {
  startServer();
  const svc::json::Value document = users_test::usersOpenApiDocument();
  std::vector<Call> tour;
  for (const std::string prefix : {"/users", "/api/v1/users"}) {
    const std::string email = R"({"email":"tour)" + std::to_string(tour.size()) + R"(@example.com","name":"T"})";
    tour.insert(tour.end(), {{"POST", prefix, email, "application/json", 201},
                             {"POST", prefix, email, "application/json", 409},
                             {"POST", prefix, "{", "application/json", 400},
                             {"POST", prefix, R"({"email":1})", "application/json", 422},
                             {"POST", prefix, email, "text/plain", 415},
                             {"POST", prefix, std::string(20000, ' '), "application/json", 413},
                             {"OPTIONS", prefix, "", "", 204},
                             {"GET", prefix + "/1"},
                             {"HEAD", prefix + "/1"},
                             {"OPTIONS", prefix + "/1", "", "", 204},
                             {"GET", prefix + "/99999", "", "", 404},
                             {"HEAD", prefix + "/99999", "", "", 404},
                             {"GET", prefix + "/abc", "", "", 400}});
  }
  for (const std::string path : {"/health", "/health/ready", "/metrics", "/openapi.json"}) {
    tour.insert(tour.end(), {{"GET", path}, {"HEAD", path}, {"OPTIONS", path, "", "", 204}});
  }
  for (const Call& call : tour) {
    SCOPED_TRACE(call.method + " " + call.path + " " + call.body.substr(0, 40));
    const test_support::Headers headers =
        call.contentType.empty() ? test_support::Headers{} : test_support::Headers{{"Content-Type", call.contentType}};
    const HttpResponse response = client().request(call.method, call.path, call.body, headers);
    EXPECT_EQ(response.status, call.status) << response.body;
    EXPECT_TRUE(test_support::documentedStatuses(document, call.method, call.path).contains(response.status));
    EXPECT_EQ(response.header("X-Request-Id").empty(), response.status == 413) << "only what is refused before routing has none";
  }
}

}  // namespace
