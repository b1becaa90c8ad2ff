#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/test_database.h"

namespace test_support {

/// A server of the service on a fresh database of the backend under test, loading the shipped
/// route plugins and echo, or those a test names by overriding routePlugins().
class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    database_ = TestDatabase::create(backendUnderTest());
    config_ = std::make_unique<ServiceConfig>(database_.get(), routePlugins());
  }

  /// The route plugins to load instead of the shipped ones (std::nullopt: the shipped ones and echo).
  virtual std::optional<std::vector<RoutePluginUnderTest>> routePlugins() const { return std::nullopt; }

  /// Starts the server with the current config_ (and extra environment variables).
  void startServer(std::map<std::string, std::string> environment = {}) {
    const std::string file = config_->write(directory_.path()).string();
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--config=" + file}, std::move(environment));
    port_ = server_->waitUntilServing();
  }

  /// Stops the server with SIGTERM and returns its exit code.
  int stopServer() {
    server_->signal(SIGTERM);
    const auto code = server_->waitForExit();
    server_.reset();
    return code.value_or(-1);
  }

  HttpClient client() const { return HttpClient(port_); }

  /// The JSON log lines containing `text`.
  std::vector<svc::json::Value> logLines(const std::string& text) const {
    std::vector<svc::json::Value> found;
    for (const std::string& line : server_->lines()) {
      if (line.find(text) != std::string::npos) found.push_back(svc::json::parse(line));
    }
    return found;
  }

  TempDir directory_;
  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<ServiceConfig> config_;
  std::unique_ptr<ServerProcess> server_;
  std::uint16_t port_ = 0;
};

/// A ServiceTest whose server is already running.
class RunningServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    startServer();
  }
};

/// Asserts an RFC 9457 problem answer with `status`.
inline void expectProblem(const HttpResponse& response, int status) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.header("Content-Type"), "application/problem+json") << response.body;
  const svc::json::Value problem = response.json();
  ASSERT_TRUE(problem.isObject()) << response.body;
  ASSERT_NE(problem.find("type"), nullptr) << response.body;
  ASSERT_NE(problem.find("title"), nullptr) << response.body;
  ASSERT_NE(problem.find("detail"), nullptr) << response.body;
  EXPECT_FALSE(problem.find("detail")->text().empty());
  EXPECT_EQ(problem.find("status")->asInt64(), status) << response.body;
}

/// The value of the sample `series` (name and labels exactly as rendered), if present.
inline std::optional<double> metricSample(const std::string& page, const std::string& series) {
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

/// The series of http_requests_total for one route, method and status.
inline std::string requestsSeries(const std::string& method, const std::string& route, const std::string& status) {
  return "http_requests_total{method=\"" + method + "\",route=\"" + route + "\",status=\"" + status + "\"}";
}

inline bool isRfc3339Millis(const std::string& text) {
  static const std::regex pattern(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  return std::regex_match(text, pattern);
}

}  // namespace test_support
