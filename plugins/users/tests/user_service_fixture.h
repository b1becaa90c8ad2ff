#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "support/service_fixture.h"

namespace users_test {

/// The configuration User Service ships for the backend under test, as built:
/// config/user-service.ini, or config/user-service.postgres.ini above it on PostgreSQL.
inline std::filesystem::path userServiceConfig(const test_support::TestDatabase& database) {
  const std::filesystem::path config = std::filesystem::path(ORDER_SERVICE_APP_DIR) / "config";
  return config / (database.backendName() == "sqlite" ? "user-service.ini" : "user-service.postgres.ini");
}

/// A server of User Service started from its shipped configuration (not Order Service's with the
/// users plugin added), on a fresh database of the backend under test: the test's overlay holds
/// only the test settings (127.0.0.1, port 0, the test database).
class UserServiceTest : public test_support::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    config_->set("config.base", userServiceConfig(*database_).string());
    config_->remove("plugins.route.orders");  // user-service.ini unloads it itself
  }

  /// None of the overlay's own (no echo): the route plugins are those user-service.ini loads.
  std::optional<std::vector<test_support::RoutePluginUnderTest>> routePlugins() const override {
    return std::vector<test_support::RoutePluginUnderTest>{};
  }

  /// Rows of the users table (with an optional WHERE clause).
  std::int64_t users(const std::string& where = "") const { return database_->count("users", where); }
};

}  // namespace users_test

namespace users_test {

/// docs/users-openapi.json of the source tree.
inline svc::json::Value usersOpenApiDocument() {
  std::ifstream in(std::string(ORDER_SERVICE_SOURCE_DIR) + "/docs/users-openapi.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return svc::json::parse(text, {.maxDepth = 64});
}

}  // namespace users_test
