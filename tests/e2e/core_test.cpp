// What the host does for every plugin, shown through the tests-only echo plugin.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "support/service_fixture.h"

using namespace test_support;

namespace {

class CoreHttp : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    startServer();
  }
};

}  // namespace

TEST_F(CoreHttp, ReportsHealth) {
  const HttpResponse response = client().get("/health");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Content-Type"), "application/json");
  EXPECT_EQ(response.body, R"({"status":"ok"})");
}

TEST_F(CoreHttp, ServesAPluginAddedByOneIniLine) {
  const HttpResponse response = client().get("/echo/hello?q=a%20b");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"greeting":"hello","word":"hello","q":"a b"})");
}

TEST_F(CoreHttp, TurnsAnyHandlerFailureIntoA500ProblemAndKeepsTheConnection) {
  HttpClient http = client();
  for (const char* how : {"std", "poco", "other"}) {
    SCOPED_TRACE(how);
    const HttpResponse response = http.get(std::string("/echo/fail/") + how);
    expectProblem(response, 500);
    EXPECT_EQ(response.body.find("echo plugin failure"), std::string::npos) << "causes stay in the log";
  }
  EXPECT_EQ(http.get("/echo/after").status, 200);
  ASSERT_TRUE(server_->waitForLine("\"path\":\"/echo/after\""));
  const auto failures = logLines("\"Request failed\"");
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[0].find("level")->text(), "ERROR");
  EXPECT_NE(failures[0].find("error")->text().find("echo plugin failure (std)"), std::string::npos);
  EXPECT_NE(failures[1].find("error")->text().find("echo plugin failure (poco)"), std::string::npos);
  EXPECT_EQ(failures[2].find("path")->text(), "/echo/fail/other");
}

// Orchestrators poll /health and /health/ready every few seconds and Prometheus scrapes /metrics:
// their successful answers are DEBUG lines; any other answer is an INFO line, as every request's.
TEST_F(CoreHttp, LogsTheProbesThatSucceedOnlyAtDebug) {
  const auto handledLines = [&] {
    std::vector<std::string> handled;
    for (const svc::json::Value& line : logLines("\"Request handled\"")) {
      handled.push_back(line.find("level")->text() + " " + line.find("method")->text() + " " +
                        line.find("path")->text() + " " + std::to_string(*line.find("status")->asInt64()));
    }
    return handled;
  };
  HttpClient http = client();
  for (const char* probe : {"/health", "/health/ready", "/metrics"}) EXPECT_EQ(http.get(probe).status, 200) << probe;
  EXPECT_EQ(http.request("POST", "/health").status, 405);
  EXPECT_EQ(http.get("/echo/last").status, 200);
  ASSERT_TRUE(server_->waitForLine("\"path\":\"/echo/last\""));
  EXPECT_EQ(handledLines(), (std::vector<std::string>{"INFO POST /health 405", "INFO GET /echo/last 200"}));

  stopServer();
  config_->set("logging.level", "debug");
  startServer();
  EXPECT_EQ(client().get("/health").status, 200);
  ASSERT_TRUE(server_->waitForLine("\"path\":\"/health\""));
  EXPECT_EQ(handledLines(), std::vector<std::string>{"DEBUG GET /health 200"});
}

TEST_F(CoreHttp, AnswersOptionsAndHeadFromTheRoutes) {
  HttpClient http = client();
  HttpResponse response = http.request("OPTIONS", "/echo/x");
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_FALSE(response.headers.has("Content-Length"));
  response = http.request("HEAD", "/health");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  EXPECT_EQ(http.get("/health").status, 200) << "keep-alive survives HEAD and OPTIONS";
}

TEST_F(CoreHttp, RefusesMalformedRequestsWith400) {
  expectProblem(client().get("/echo/%zz"), 400);
  EXPECT_EQ(statusOf(rawExchange(port_, "GARBAGE\r\n\r\n")), 400);
  EXPECT_EQ(client().get("/health").status, 200);
}

TEST_F(CoreHttp, AppliesTheBodyLimitToEveryPluginRoute) {
  HttpClient http = client();
  const HttpResponse fits = http.postJson("/echo", "[" + std::string(16000, ' ') + "]");
  EXPECT_EQ(fits.status, 200);
  EXPECT_EQ(fits.body, R"({"bytes":16002,"object":false})");
  expectProblem(http.postJson("/echo", "[" + std::string(17000, ' ') + "]"), 413);
}

TEST_F(CoreHttp, ServesManyRequestsOnOneConnection) {
  HttpClient http = client();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(http.get("/echo/" + std::to_string(i)).status, 200);
}

// A connection's socket stays in its loop's poll set while a worker or an asynchronous handler
// answers it. Should the client send its next request meanwhile, or leave, the loop must not be
// woken for that socket again and again until the answer is sent: it would take a core doing nothing.
TEST_F(CoreHttp, AnswersAPipelinedRequestOrAClientThatLeftMidAnswerWithoutSpinning) {
  Poco::Net::StreamSocket pipeliningAsync = connectTo(port_);
  Poco::Net::StreamSocket pipelining = connectTo(port_);
  Poco::Net::StreamSocket leaving = connectTo(port_);
  send(pipeliningAsync, "GET /echo/later/1500 HTTP/1.1\r\nHost: x\r\n\r\n");
  send(pipelining, "GET /echo/sleep/1500 HTTP/1.1\r\nHost: x\r\n\r\n");
  send(leaving, "GET /echo/sleep/1500 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(server_->waitForLines("\"Echo sleeping\"", 2)) << server_->output();

  const auto cpuBefore = server_->cpuTime();
  for (auto* socket : {&pipeliningAsync, &pipelining}) send(*socket, "GET /echo/next HTTP/1.1\r\nHost: x\r\n\r\n");
  leaving.close();
  const std::vector<std::string> answers = readResponses(pipelining, 2);
  const std::vector<std::string> asyncAnswers = readResponses(pipeliningAsync, 2);
  const auto cpuUsed = server_->cpuTime() - cpuBefore;
  std::cout << "[ figures  ] the server used " << cpuUsed.count() << " ms of CPU while the answers were in progress\n";

  ASSERT_EQ(answers.size(), 2u);
  EXPECT_NE(answers[0].find(R"({"slept_ms":1500})"), std::string::npos) << answers[0];
  EXPECT_NE(answers[1].find(R"("word":"next")"), std::string::npos) << answers[1];
  ASSERT_EQ(asyncAnswers.size(), 2u);
  EXPECT_NE(asyncAnswers[0].find(R"("later_ms":1500)"), std::string::npos) << asyncAnswers[0];
  EXPECT_NE(asyncAnswers[1].find(R"("word":"next")"), std::string::npos) << asyncAnswers[1];
  // Idle, the server uses 0-10 ms in that time (30-60 under the sanitizers beside busy loops);
  // spinning, it took 2,370-2,900 ms, and would get a share of a core even beside busy neighbours.
  EXPECT_LT(cpuUsed, 250ms) << "the server used " << cpuUsed.count() << " ms of CPU while it waited";
  EXPECT_EQ(client().get("/health").status, 200);
}

namespace {

class CoreConfiguration : public ServiceTest {};

}  // namespace

TEST_F(CoreConfiguration, GivesPluginsTheirOwnSectionWithEnvironmentOverrides) {
  config_->set("echo.greeting", "hi");
  startServer();
  EXPECT_EQ(client().get("/echo/x").body, R"({"greeting":"hi","word":"x"})");
  stopServer();
  startServer({{"ORDER_SERVICE_ECHO_GREETING", "bonjour"}});
  EXPECT_EQ(client().get("/echo/x").body, R"({"greeting":"bonjour","word":"x"})");
}

TEST_F(CoreConfiguration, EnvironmentSetsKeysTheFileLeavesOutAndReportsVariablesNamingNoSection) {
  startServer({{"ORDER_SERVICE_ECHO_GREETING", "bonjour"}, {"ORDER_SERVICE_SERVR_PORT", "1"}});
  EXPECT_EQ(client().get("/echo/x").body, R"({"greeting":"bonjour","word":"x"})");
  const auto ignored = logLines("names no configuration section");
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_EQ(ignored[0].find("variable")->text(), "ORDER_SERVICE_SERVR_PORT");
  EXPECT_TRUE(logLines("Deprecated").empty());
}

// Files and variables written before the backend keys had their own section still work.
TEST_F(CoreConfiguration, ReadsBackendKeysLeftInStorageWithOneWarning) {
  const std::filesystem::path database = directory_.path() / "old-place" / "orders.db";
  config_->remove("storage-sqlite.database").set("storage.synchronous", "NORMAL");
  startServer({{"ORDER_SERVICE_STORAGE_DATABASE", database.string()}});
  EXPECT_EQ(client().postJson("/orders", R"({"user_id":7,"product_id":8,"quantity":9})").status, 201);
  EXPECT_TRUE(std::filesystem::exists(database)) << "the service used the database the old variable names";
  const auto warnings = logLines("Deprecated: backend keys in [storage]");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].find("keys")->text(), "synchronous,ORDER_SERVICE_STORAGE_DATABASE");
  EXPECT_EQ(warnings[0].find("section")->text(), "storage-sqlite");
}

// A misspelt key is not silently ignored: one WARN names it and the key it was likely meant to be.
TEST_F(CoreConfiguration, WarnsOfAnUnknownKeyNamingTheNearestKnownOneAndStillStarts) {
  config_->set("server.max_thread", "8").set("storage.pool_sise", "4").set("echo.greting", "hi");
  startServer();
  EXPECT_EQ(client().get("/echo/x").body, R"({"greeting":"hello","word":"x"})");
  std::vector<std::string> details;
  for (const auto& line : logLines("\"Unknown setting; ignored\"")) {
    EXPECT_EQ(line.find("level")->text(), "WARN");
    details.push_back(line.find("detail")->text());
  }
  std::sort(details.begin(), details.end());
  EXPECT_EQ(details, (std::vector<std::string>{"unknown setting echo.greting; did you mean echo.greeting?",
                                               "unknown setting server.max_thread; did you mean server.max_threads?",
                                               "unknown setting storage.pool_sise; did you mean storage.pool_size?"}))
      << server_->output();
  EXPECT_TRUE(logLines("Deprecated").empty()) << "storage.pool_sise is no storage plugin's key either";
}

TEST_F(CoreConfiguration, WritesTheSeedsTextLogFormatWhenAskedTo) {
  config_->set("logging.format", "json");
  startServer({{"ORDER_SERVICE_LOGGING_FORMAT", "text"}});
  client().postJson("/orders", R"({"user_id":7,"product_id":8,"quantity":9})");
  const auto line = server_->waitForLine("Created new order");
  ASSERT_TRUE(line);
  static const std::regex format(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO Created new order service_name=order-service request_id=[0-9a-f]{32} order_id=1 user_id=7 product_id=8 quantity=9)");
  EXPECT_TRUE(std::regex_match(*line, format)) << *line;
}

TEST_F(CoreConfiguration, SaysCloseOnTheLastRequestAConnectionMayCarry) {
  config_->set("server.max_keep_alive_requests", "2");
  startServer();
  const std::string raw = rawExchange(port_, "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                                             "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::size_t second = raw.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << raw;
  EXPECT_NE(raw.substr(0, second).find("Connection: Keep-Alive"), std::string::npos) << raw;
  EXPECT_NE(raw.substr(second).find("Connection: Close"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("HTTP/1.1", second + 1), std::string::npos) << "a third request was served";
}

TEST(CoreMetrics, LeavesOutThePoolWithoutAStoragePlugin) {
  TempDir directory;
  const std::string file = ServiceConfig(nullptr).write(directory.path()).string();
  ServerProcess server({"--config=" + file});
  HttpClient http(server.waitUntilServing());
  ASSERT_EQ(http.get("/echo/x").status, 200);
  const HttpResponse response = http.get("/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(metricSample(response.body, requestsSeries("GET", "/echo/{word}", "200")), 1);
  EXPECT_EQ(response.body.find("db_pool"), std::string::npos);
  EXPECT_EQ(response.body.find("orders_created_total"), std::string::npos);
}

TEST(CoreReadyProbe, IsReadyWithABackendOfNullWithoutAStoragePlugin) {
  TempDir directory;
  const std::string file = ServiceConfig(nullptr).write(directory.path()).string();
  ServerProcess server({"--config=" + file});
  HttpClient http(server.waitUntilServing());
  const HttpResponse response = http.get("/health/ready");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"status":"ready","backend":null})");
}
