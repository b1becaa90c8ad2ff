// Connections cost the server a socket and a buffer, not a thread: many idle or trickling
// clients do not keep fresh ones from being served promptly; at the cap a fresh connection takes
// the place of the longest-idle keep-alive one, and only when none is idle gets a 503 it can read.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include "support/eventually.h"
#include "support/service_fixture.h"
#include "e2e/orders_support.h"

using namespace test_support;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

void raiseOwnOpenFileLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

/// Waits until the bytes waiting in `socket` stop growing: its sender is stalled on full buffers.
bool awaitStalledSender(Poco::Net::StreamSocket& socket) {
  int waiting = 0;
  int unchangedPolls = 0;
  return eventually([&] {
    const int now = socket.available();
    unchangedPolls = now > 0 && now == waiting ? unchangedPolls + 1 : 0;
    waiting = now;
    return unchangedPolls >= 5;
  }, 10s);
}

const std::string kHealthRequest = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

/// `socket` once it has been answered one GET /health: an idle keep-alive connection.
Poco::Net::StreamSocket answeredOnce(Poco::Net::StreamSocket socket) {
  send(socket, kHealthRequest);
  EXPECT_EQ(statusOf(readResponses(socket, 1).at(0)), 200);
  return socket;
}

/// Whether the server closes `socket` (it has nothing more to read) within `timeout`.
bool closedByServer(Poco::Net::StreamSocket& socket, std::chrono::milliseconds timeout = 2s) {
  if (!socket.poll(Poco::Timespan(std::chrono::microseconds(timeout).count()), Poco::Net::Socket::SELECT_READ)) {
    return false;
  }
  char byte = 0;
  try {
    return socket.receiveBytes(&byte, 1) == 0;
  } catch (const Poco::Net::ConnectionResetException&) {
    return true;
  }
}

/// Clients that send a request head one byte at a time, `pause` apart, until stopped.
class Slowloris {
 public:
  Slowloris(std::uint16_t port, int clients, std::chrono::milliseconds pause) {
    for (int i = 0; i < clients; ++i) sockets_.push_back(connectTo(port));
    sender_ = std::thread([this, pause] {
      const std::string head = "GET /health HTTP/1.1\r\nX-Slow: " + std::string(1000, 'z');
      for (std::size_t at = 0; !stopping_ && at < head.size(); ++at) {
        for (auto& socket : sockets_) {
          try {
            socket.sendBytes(&head[at], 1);
          } catch (const Poco::Exception&) {
            ++cutOff_;
          }
        }
        ++bytesSent_;
        std::this_thread::sleep_for(pause);
      }
    });
  }
  ~Slowloris() {
    stopping_ = true;
    sender_.join();
  }
  int cutOff() const { return cutOff_; }
  /// Whether every client has sent `count` bytes of its head, within `timeout`.
  bool awaitBytesSent(int count, std::chrono::milliseconds timeout) {
    return eventually([&] { return bytesSent_ >= count; }, timeout);
  }

 private:
  std::vector<Poco::Net::StreamSocket> sockets_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> cutOff_{0};
  std::atomic<int> bytesSent_{0};
  std::thread sender_;
};

class CoreConnections : public ServiceTest {
 protected:
  void SetUp() override {
    raiseOwnOpenFileLimit();
    ServiceTest::SetUp();
  }

  /// `count` keep-alive connections, each having been answered once and now idle.
  std::vector<Poco::Net::StreamSocket> idleConnections(int count) {
    std::vector<Poco::Net::StreamSocket> sockets;
    for (int i = 0; i < count; ++i) {
      sockets.push_back(connectTo(port_));
      send(sockets.back(), kHealthRequest);
    }
    for (auto& socket : sockets) EXPECT_EQ(statusOf(readResponses(socket, 1).at(0)), 200);
    return sockets;
  }

  /// The latencies of a fresh client's GET /health and POST /orders, each on a new connection.
  std::vector<Clock::duration> freshClients(int count) {
    std::vector<Clock::duration> latencies;
    for (int i = 0; i < count; ++i) {
      auto started = Clock::now();
      EXPECT_EQ(HttpClient(port_, 5s).get("/health").status, 200);
      latencies.push_back(Clock::now() - started);
      started = Clock::now();
      EXPECT_EQ(HttpClient(port_, 5s).postJson("/orders", kSampleOrder).status, 201);
      latencies.push_back(Clock::now() - started);
    }
    std::sort(latencies.begin(), latencies.end());
    return latencies;
  }
};

}  // namespace

TEST_F(CoreConnections, ServeFreshClientsPromptlyWhileThousandsIdleAndHundredsTrickle) {
  config_->set("server.keep_alive_timeout_ms", "30000");
  config_->set("server.receive_timeout_ms", "30000");
  startServer();
  std::vector<Poco::Net::StreamSocket> idle = idleConnections(2000);
  Slowloris slowloris(port_, 300, 100ms);
  ASSERT_TRUE(slowloris.awaitBytesSent(2, 5s)) << "the trickling clients did not start";

  const std::vector<Clock::duration> latencies = freshClients(25);
  const auto median = latencies[latencies.size() / 2];
  EXPECT_LT(latencies.back(), 1s) << "slowest fresh request";
  EXPECT_LT(median, 100ms) << "median fresh request";
  EXPECT_EQ(slowloris.cutOff(), 0);

  for (std::size_t i = 0; i < idle.size(); i += 20) {  // the idle ones were kept, not dropped
    send(idle[i], kHealthRequest);
    EXPECT_EQ(statusOf(readResponses(idle[i], 1).at(0)), 200) << "idle connection " << i;
  }
}

// As nginx does: at max_connections a fresh client takes the place of the keep-alive connection
// that has been idle longest, whichever event loop holds it.
TEST_F(CoreConnections, AtTheCapFreshClientsTakeThePlacesOfTheLongestIdleConnections) {
  config_->set("server.max_connections", "20");
  config_->set("server.keep_alive_timeout_ms", "30000");
  startServer();
  std::vector<Poco::Net::StreamSocket> idle;  // the longest idle first
  for (int i = 0; i < 20; ++i) idle.push_back(answeredOnce(connectTo(port_)));

  std::vector<Poco::Net::StreamSocket> fresh;
  for (std::size_t i = 0; i < 10; ++i) {
    fresh.push_back(connectTo(port_));
    send(fresh.back(), kHealthRequest);
    const std::vector<std::string> answer = readResponses(fresh.back(), 1);
    ASSERT_EQ(answer.size(), 1u) << "fresh client " << i;
    EXPECT_EQ(statusOf(answer[0]), 200) << answer[0];
    EXPECT_TRUE(closedByServer(idle[i])) << "idle connection " << i << ", then the longest idle";
  }
  for (std::size_t i = 10; i < idle.size(); ++i) {
    send(idle[i], kHealthRequest);
    EXPECT_EQ(statusOf(readResponses(idle[i], 1).at(0)), 200) << "idle connection " << i << " was kept";
  }
  send(fresh.front(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(metricSample(readResponses(fresh.front(), 1).at(0), "http_connections_evicted_total").value_or(-1), 10);
}

TEST_F(CoreConnections, AtTheCapWithEverySlotMidRequestGetA503AndAreClosed) {
  config_->set("server.max_connections", "20");
  startServer();
  std::vector<Poco::Net::StreamSocket> slow;  // slowloris: a head begun, never finished
  for (int i = 0; i < 20; ++i) {
    slow.push_back(connectTo(port_));
    send(slow.back(), "GET /health HTTP/1.1\r\nX-Slow: z");
  }

  Poco::Net::StreamSocket over = connectTo(port_);
  const std::vector<std::string> refused = readResponses(over, 1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(statusOf(refused[0]), 503) << refused[0];
  EXPECT_NE(refused[0].find("Content-Type: application/problem+json"), std::string::npos);
  EXPECT_NE(refused[0].find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(refused[0].find("Connection: Close"), std::string::npos);
  EXPECT_TRUE(closedByServer(over)) << "the connection is closed after the answer";
  for (std::size_t i = 0; i < slow.size(); ++i) EXPECT_FALSE(closedByServer(slow[i], 0ms)) << "slow connection " << i;

  slow.resize(10);  // ten clients leave: room for fresh ones again, once the server saw them go
  // Asked without recording the answers: a 503 at the cap before it saw them go is no route's answer.
  EXPECT_TRUE(eventually([&] {
    try {
      return statusOf(rawExchange(port_, "GET /health HTTP/1.0\r\n\r\n")) == 200;
    } catch (const Poco::Exception&) {
      return false;
    }
  }, 2s));
  EXPECT_EQ(client().get("/health").status, 200);
}

TEST_F(CoreConnections, AnswerPipelinedRequestsInOrderWhereverEachRuns) {
  startServer();
  Poco::Net::StreamSocket socket = connectTo(port_);
  const std::string post = "POST /orders HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(std::string(kSampleOrder).size()) + "\r\n\r\n" + kSampleOrder;
  send(socket, post + "GET /health HTTP/1.1\r\n\r\nGET /orders/1 HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n" + post);
  const std::vector<std::string> responses = readResponses(socket, 5);
  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(statusOf(responses[0]), 201);
  EXPECT_EQ(statusOf(responses[1]), 200);
  EXPECT_NE(responses[1].find("{\"status\":\"ok\"}"), std::string::npos);
  EXPECT_EQ(statusOf(responses[2]), 200);
  EXPECT_NE(responses[2].find("\"order_id\":1"), std::string::npos);
  EXPECT_EQ(statusOf(responses[3]), 404);
  EXPECT_EQ(statusOf(responses[4]), 201);
  EXPECT_NE(responses[4].find("\"order_id\":2"), std::string::npos);
  EXPECT_EQ(countOrders(*database_), 2);
}

TEST_F(CoreConnections, DrainOnSigtermNotReadyButServingThenStop) {
  config_->set("server.drain_delay_ms", "1500");
  startServer();
  HttpClient keptAlive = client();
  EXPECT_EQ(keptAlive.get("/health/ready").status, 200);

  const auto signalled = Clock::now();
  server_->signal(SIGTERM);
  ASSERT_TRUE(server_->waitForLine("Draining"));
  expectProblem(client().get("/health/ready"), 503);
  EXPECT_EQ(client().get("/health").status, 200) << "new connections are still served while draining";
  EXPECT_EQ(client().postJson("/orders", kSampleOrder).status, 201);
  EXPECT_EQ(keptAlive.get("/health").status, 200);
  EXPECT_LT(Clock::now() - signalled, 1500ms);

  EXPECT_EQ(server_->waitForExit(10s).value_or(-1), 0);
  EXPECT_GE(Clock::now() - signalled, 1500ms);
  EXPECT_THROW(HttpClient(port_, 1s).get("/health"), Poco::Exception) << "no longer accepting";
  EXPECT_FALSE(server_->waitForLine("press Ctrl-C again", 0ms)) << "no terminal to tell";
}

TEST_F(CoreConnections, AClientThatDoesNotReadHoldsUpNobodyAndGetsEveryAnswerInTheEnd) {
  startServer();
  Poco::Net::StreamSocket reader = connectTo(port_);
  std::string requests;
  for (int i = 0; i < 200; ++i) requests += "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n";
  send(reader, requests);  // ~12 MB of answers: far more than the socket buffers hold
  ASSERT_TRUE(awaitStalledSender(reader)) << "the server did not fill the buffers of the client that does not read";

  for (int i = 0; i < 10; ++i) {
    const auto started = Clock::now();
    EXPECT_EQ(client().get("/health").status, 200);
    EXPECT_LT(Clock::now() - started, 500ms);
  }
  const std::vector<std::string> answers = readResponses(reader, 200);
  ASSERT_EQ(answers.size(), 200u);
  for (const std::string& answer : answers) EXPECT_EQ(statusOf(answer), 200);
}
