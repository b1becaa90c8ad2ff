#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>

#include "support/http_client.h"
#include "support/test_database.h"

namespace test_support {

/// A valid POST /orders body.
inline constexpr const char* kSampleOrder = R"({"user_id":123,"product_id":456,"quantity":2})";

/// POSTs `body` to `path`, expects 201 and returns the new order's id.
inline std::int64_t createOrder(HttpClient& http, const std::string& path = "/orders",
                                const std::string& body = kSampleOrder) {
  const HttpResponse response = http.postJson(path, body);
  EXPECT_EQ(response.status, 201) << response.body;
  return *response.json().find("order_id")->asInt64();
}

/// The rows of the orders table, with an optional WHERE clause.
inline std::int64_t countOrders(const TestDatabase& database, const std::string& sqlWhere = "") {
  return database.count("orders", sqlWhere);
}

/// How many migrations orders ships for the database's backend.
inline std::size_t ordersMigrationFiles(const TestDatabase& database) {
  const std::filesystem::directory_iterator files(database.migrationsDirectory("orders"));
  return static_cast<std::size_t>(std::count_if(begin(files), end(files), [](const auto& file) {
    return file.path().extension() == ".sql";
  }));
}

}  // namespace test_support
