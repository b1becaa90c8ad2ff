// Clients that send nonsense, too much, or too slowly get a problem document and are cut off,
// without holding up anybody else.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include <Poco/Net/StreamSocket.h>

#include "support/eventually.h"
#include "support/service_fixture.h"
#include "e2e/orders_support.h"

using namespace test_support;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

class CoreHostileClients : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    config_->set("server.receive_timeout_ms", "500");
    config_->set("server.request_timeout_ms", "1500");
    startServer();
  }

  /// The problem a raw exchange answered with; fails unless it is one.
  svc::json::Value problemOf(const std::string& raw, int status) {
    EXPECT_EQ(statusOf(raw), status) << raw.substr(0, 200);
    EXPECT_NE(raw.find("Content-Type: application/problem+json"), std::string::npos) << raw.substr(0, 300);
    return svc::json::parse(raw.substr(raw.find("\r\n\r\n") + 4));
  }

  /// Sends `head` at once, then `text` one byte at a time, `pause` apart; returns what came back.
  /// Counts itself in `trickling` (if given) once its first byte is sent.
  std::string trickle(const std::string& text, std::chrono::milliseconds pause, const std::string& head = "",
                      std::atomic<int>* trickling = nullptr) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port_));
    if (!head.empty()) socket.sendBytes(head.data(), static_cast<int>(head.size()));
    socket.setReceiveTimeout(Poco::Timespan(0, 1000));
    std::string received;
    char buffer[4096];
    for (const char& c : text) {
      try {
        socket.sendBytes(&c, 1);
        if (trickling != nullptr && &c == &text.front()) ++*trickling;
        const int count = socket.receiveBytes(buffer, sizeof buffer);
        if (count <= 0) break;
        received.append(buffer, static_cast<std::size_t>(count));
      } catch (const Poco::TimeoutException&) {
        std::this_thread::sleep_for(pause);
      } catch (const Poco::Exception&) {
        break;
      }
    }
    return received;
  }
};

}  // namespace

TEST_F(CoreHostileClients, GetProblemDocumentsForMalformedOrOversizedHeads) {
  EXPECT_EQ(problemOf(rawExchange(port_, "GARBAGE\r\n\r\n"), 400).find("status")->asInt64(), 400);
  problemOf(rawExchange(port_, "GET /health HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n"), 431);
  std::string many = "GET /health HTTP/1.1\r\n";
  for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  problemOf(rawExchange(port_, many + "\r\n"), 431);
  problemOf(rawExchange(port_, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n"), 400);
  EXPECT_TRUE(server_->waitForLines("\"Request rejected\"", 4));
  EXPECT_EQ(logLines("\"Request rejected\"").size(), 4u);
  EXPECT_EQ(client().get("/health").status, 200);
}

TEST_F(CoreHostileClients, AreCutOffWhenTheirRequestStallsOrTrickles) {
  // All at once, each on its own connection: each waits out a deadline of the server.
  const auto timed = [](std::function<std::string()> exchange) {
    return std::async(std::launch::async, [exchange] {
      const auto started = Clock::now();
      std::string answer = exchange();
      return std::pair{answer, Clock::now() - started};
    });
  };
  auto stalled = timed([&] { return rawExchange(port_, "GET /health HTTP/1.1\r\nHost: x\r\n", 5s); });
  auto trickled = timed([&] { return trickle("GET /health HTTP/1.1\r\nHost: " + std::string(200, 'x') + "\r\n\r\n", 100ms); });
  auto slowHeaders = timed([&] { return trickle("Host: " + std::string(200, 'x') + "\r\n\r\n", 100ms, "GET /health HTTP/1.1\r\n"); });
  auto inRequestLine = timed([&] { return rawExchange(port_, "GET /hea", 5s); });
  auto shortBody = timed([&] {
    return rawExchange(port_, "POST /orders HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user_id\"", 5s);
  });

  const auto [stalledAnswer, stalledFor] = stalled.get();
  EXPECT_LT(stalledFor, 2s);
  problemOf(stalledAnswer, 408);
  const auto [trickledAnswer, trickledFor] = trickled.get();
  EXPECT_LT(trickledFor, 3s) << "the request deadline (1.5 s) applies to a client that keeps sending";
  problemOf(trickledAnswer, 408);
  const auto [slowHeadersAnswer, slowHeadersFor] = slowHeaders.get();
  EXPECT_LT(slowHeadersFor, 3s);
  problemOf(slowHeadersAnswer, 408);
  problemOf(inRequestLine.get().first, 408);
  problemOf(shortBody.get().first, 408);
  EXPECT_EQ(countOrders(*database_), 0);
}

TEST_F(CoreHostileClients, DoNotHoldUpOtherClients) {
  constexpr int kSlowClients = 20;
  std::atomic<int> trickling{0};
  std::vector<std::future<std::string>> slow;
  for (int i = 0; i < kSlowClients; ++i) {
    slow.push_back(std::async(std::launch::async, [this, &trickling] {
      return trickle("GET /health HTTP/1.1\r\nHost: " + std::string(100, 'x') + "\r\n\r\n", 100ms, "", &trickling);
    }));
  }
  ASSERT_TRUE(eventually([&] { return trickling == kSlowClients; }, 5s)) << "the slow clients did not start";
  HttpClient http = client();
  for (int i = 0; i < 20; ++i) {
    const auto started = Clock::now();
    EXPECT_EQ(http.get("/health").status, 200);
    EXPECT_LT(Clock::now() - started, 200ms);
  }
  for (auto& each : slow) EXPECT_EQ(statusOf(each.get()), 408);
}

TEST_F(CoreHostileClients, CannotSmuggleARequestBehindAMalformedChunk) {
  const std::string raw = rawExchange(port_,
                                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
                                      "GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  problemOf(raw, 400);
  EXPECT_NE(raw.find("Connection: Close"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("HTTP/1.1", 1), std::string::npos) << "a second response: the smuggled request was served";
  ASSERT_TRUE(server_->waitForLine("\"Request handled\""));
  EXPECT_EQ(logLines("\"Request handled\"").size(), 1u);

  const std::string both = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "2\r\n{}\r\n0\r\n\r\n";
  EXPECT_NE(problemOf(rawExchange(port_, both), 400).find("detail")->text().find("cannot be combined"), std::string::npos);
  problemOf(rawExchange(port_, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
}

TEST_F(CoreHostileClients, CannotFrameABodyAmbiguously) {
  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  for (const std::string length : {"Content-Length: -1\r\n", "Content-Length: abc\r\n", "Content-Length: +2\r\n",
                                   "Content-Length: 2\r\nContent-Length: 40\r\n"}) {
    SCOPED_TRACE(length);
    problemOf(rawExchange(port_, head + length + "\r\n{}"), 400);
  }
  problemOf(rawExchange(port_, head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 501);
  // Connection: close, or the exchange waits for the server to close the kept-alive connection
  EXPECT_EQ(statusOf(rawExchange(port_, head + "Content-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")), 200);
}

TEST_F(CoreHostileClients, GetA505ForAnotherHttpVersion) {
  problemOf(rawExchange(port_, "GET /health HTTP/9.9\r\nHost: x\r\n\r\n"), 505);
  EXPECT_NE(rawExchange(port_, "GET /health HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0), std::string::npos);
}

TEST_F(CoreHostileClients, WhoCloseAnIdleConnectionLeaveNoTrace) {
  for (int i = 0; i < 5; ++i) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port_));
    socket.close();
  }
  EXPECT_EQ(client().get("/echo/after").status, 200);
  ASSERT_TRUE(server_->waitForLine("\"Request handled\""));
  // Nothing to wait for but an absence: the closes came before the request just handled, and a
  // rejection of them would be logged within moments.
  EXPECT_FALSE(server_->waitForLine("\"Request rejected\"", 100ms));
}
