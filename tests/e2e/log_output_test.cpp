// The log output stalls or fails (a pipe nobody reads, a full disk, a file that cannot be opened):
// requests are answered all the same, the lines lost are counted at /metrics, and the process lives.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include <Poco/Exception.h>

#include "support/service_fixture.h"
#include "e2e/orders_support.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

constexpr auto kAnswerBound = 3s;

double droppedLogLines(std::uint16_t port) {
  const HttpResponse page = HttpClient(port, kAnswerBound).get("/metrics");
  static const std::regex sample(R"(\nlog_lines_dropped_total (\d+)\n)");
  std::smatch match;
  if (page.status != 200 || !std::regex_search(page.body, match, sample)) return -1;
  return std::stod(match[1]);
}

/// What a burst of requests got: how many were answered as expected, and the slowest answer.
struct Burst {
  int answered = 0;
  int failed = 0;
  std::chrono::milliseconds slowest{0};
};

/// `count` requests, every third on a fresh connection, the rest on one keep-alive connection:
/// POST /orders, GET /orders/{id} and GET /health in turn. Each must answer within kAnswerBound.
Burst sendBurst(std::uint16_t port, int count) {
  Burst burst;
  std::optional<HttpClient> keepAlive;
  std::string lastOrder = "/orders/1";
  for (int i = 0; i < count; ++i) {
    const auto started = std::chrono::steady_clock::now();
    try {
      if (!keepAlive) keepAlive.emplace(port, kAnswerBound);
      HttpClient fresh(port, kAnswerBound);
      HttpClient& http = i % 3 == 2 ? fresh : *keepAlive;
      HttpResponse response;
      int expected = 200;
      switch (i % 3) {
        case 0:
          response = http.postJson("/orders", kSampleOrder);
          expected = 201;
          if (response.status == 201) lastOrder = response.header("Location");
          break;
        case 1: response = http.get(lastOrder); break;
        default: response = http.get("/health"); break;
      }
      ++(response.status == expected ? burst.answered : burst.failed);
    } catch (const Poco::Exception&) {  // a timeout: not answered
      ++burst.failed;
      keepAlive.reset();
    }
    burst.slowest = std::max(burst.slowest, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - started));
  }
  return burst;
}

class LogOutput : public ServiceTest {
 protected:
  /// Starts a server whose log goes to `file`: its port is chosen here, the log cannot tell it.
  void startServerLoggingTo(const std::string& file) {
    port_ = unusedPort();
    config_->set("server.port", std::to_string(port_));
    config_->set("logging.file", file);
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config=" + config_->write(directory_.path()).string()});
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (HttpClient(port_, 1s).get("/health").status == 200) return;
      } catch (const Poco::Exception&) {
        std::this_thread::sleep_for(50ms);
      }
    }
    FAIL() << "the server did not answer; its output:\n" << server_->output();
  }

  void expectBurstAnswered(int count) {
    const Burst burst = sendBurst(port_, count);
    std::cout << "[ figures  ] " << burst.answered << " of " << count << " answered, slowest "
              << burst.slowest.count() << " ms, log lines dropped " << droppedLogLines(port_) << '\n';
    EXPECT_EQ(burst.answered, count) << burst.failed << " not answered as expected";
  }
};

}  // namespace

/// Requests whose log lines (with their 3000-character path) overflow the pipe and the log's
/// 1 MiB queue whatever the timing.
void overflowTheLog(std::uint16_t port) {
  HttpClient http(port, kAnswerBound);
  const std::string path = "/" + std::string(3000, 'x');
  for (int i = 0; i < 450; ++i) ASSERT_EQ(http.get(path).status, 404);
}

TEST_F(LogOutput, RequestsAreAnsweredWhileNobodyReadsStdout) {
  startServer();
  server_->pauseReading();
  overflowTheLog(port_);
  expectBurstAnswered(600);
  EXPECT_GT(droppedLogLines(port_), 0) << "the lines that found the pipe full were counted";

  server_->resumeReading();
  const std::optional<std::string> notice = server_->waitForLine("Log lines were dropped", 10s);
  ASSERT_TRUE(notice) << "once the pipe is read again, one line says how many were lost";
  EXPECT_GT(*svc::json::parse(*notice).find("dropped")->asInt64(), 0) << *notice;
  EXPECT_EQ(HttpClient(port_).get("/health").status, 200);
}

TEST_F(LogOutput, ShutdownDoesNotWaitForAStalledStdout) {
  startServer();
  server_->pauseReading();
  overflowTheLog(port_);
  const auto started = std::chrono::steady_clock::now();
  server_->signal(SIGTERM);
  const std::optional<int> code = server_->waitForExit(10s);
  ASSERT_TRUE(code) << "the server did not stop with its log output stalled";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

// /dev/full fails every write with ENOSPC, as a file on a full disk does.
TEST_F(LogOutput, ALogFileOnAFullDiskCostsLinesNotTheProcess) {
  startServerLoggingTo("/dev/full");
  EXPECT_TRUE(server_->waitForLine("Cannot write the log file")) << "reported on stderr:\n" << server_->output();
  expectBurstAnswered(600);
  const double dropped = droppedLogLines(port_);
  // Lines still queued for the writer's next attempt are not counted yet.
  EXPECT_GT(dropped, 300) << "each request's line was counted";
  EXPECT_FALSE(server_->waitForExit(0ms)) << "the process is still up";
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->waitForExit(), 0);
}

TEST_F(LogOutput, ALogFileThatCannotBeOpenedDoesNotStopTheStart) {
  startServerLoggingTo("/etc/passwd/order-service.log");  // a path under a file: never opens, even for root
  const std::optional<std::string> report = server_->waitForLine("Cannot write the log file");
  ASSERT_TRUE(report) << server_->output();
  EXPECT_NE(report->find("/etc/passwd/order-service.log"), std::string::npos) << *report;
  EXPECT_EQ(client().postJson("/orders", kSampleOrder).status, 201);
  EXPECT_GT(droppedLogLines(port_), 0);
}
