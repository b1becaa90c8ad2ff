#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "metrics_page.h"
#include "support/capturing_sink.h"
#include "support/fake_upstream.h"
#include "upstream_clients.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using svc::host::UpstreamClients;

namespace {

constexpr auto kCompletionLimit = 5s;

struct Outcome {
  std::optional<svc::UpstreamResponse> response;
  std::exception_ptr error;
  Clock::duration elapsed{};         ///< from call() to the completion
  Clock::duration callReturned{};    ///< how long call() itself took
  bool completedBeforeReturn = false;
  std::thread::id thread;
  std::shared_ptr<const svc::RequestContext> request;  ///< current in the completion
};

svc::UpstreamRequest get(std::string target = "/users/42") {
  return svc::UpstreamRequest{.method = "GET", .target = std::move(target)};
}

svc::UpstreamRequest post(std::string target = "/users") {
  return svc::UpstreamRequest{
      .method = "POST", .target = std::move(target), .body = "{}", .contentType = "application/json", .idempotent = false};
}

// Starts a call; the future has its outcome.
std::future<Outcome> start(svc::Upstream& upstream, svc::UpstreamRequest request = get()) {
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto returned = std::make_shared<std::atomic<bool>>(false);
  std::future<Outcome> future = promise->get_future();
  const Clock::time_point started = Clock::now();
  upstream.call(std::move(request), [promise, returned, started](svc::Result<svc::UpstreamResponse> result) {
    Outcome outcome{.elapsed = Clock::now() - started,
                    .completedBeforeReturn = !returned->load(),
                    .thread = std::this_thread::get_id(),
                    .request = svc::currentRequest()};
    if (result.ok()) outcome.response = std::move(result.value());
    else outcome.error = result.error();
    promise->set_value(std::move(outcome));
  });
  returned->store(true);
  return future;
}

Outcome finish(std::future<Outcome>& future) {
  if (future.wait_for(kCompletionLimit) != std::future_status::ready) {
    ADD_FAILURE() << "no completion within 5 s";
    return {};
  }
  return future.get();
}

Outcome call(svc::Upstream& upstream, svc::UpstreamRequest request = get()) {
  const Clock::time_point started = Clock::now();
  std::future<Outcome> future = start(upstream, std::move(request));
  const Clock::duration returned = Clock::now() - started;
  Outcome outcome = finish(future);
  outcome.callReturned = returned;
  return outcome;
}

// "timed out: <detail>", "unavailable (retry after N s): <detail>", "other: ..." or "none".
std::string failureOf(const Outcome& outcome) {
  if (!outcome.error) return "none";
  try {
    std::rethrow_exception(outcome.error);
  } catch (const svc::UpstreamUnavailable& error) {
    return "unavailable (retry after " + std::to_string(error.retryAfter().count()) + " s): " + error.what();
  } catch (const svc::TimedOut& error) {
    return std::string("timed out: ") + error.what();
  } catch (const std::exception& error) {
    return std::string("other: ") + error.what();
  }
}

bool startsWith(const std::string& text, const std::string& start) { return text.rfind(start, 0) == 0; }
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

long long millis(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 2s) {
  const Clock::time_point deadline = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The value of one series on a metrics page, or -1.
long long sample(const std::string& page, const std::string& series) {
  const std::size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(page.substr(at + series.size() + 2));
}

std::shared_ptr<const svc::RequestContext> requestWithBudget(std::chrono::milliseconds budget) {
  return std::make_shared<const svc::RequestContext>(
      svc::RequestContext{.requestId = "req-7f3a",
                          .traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          .deadline = Clock::now() + budget});
}

class UpstreamCalls : public ::testing::Test {
 protected:
  svc::Upstream& upstream(std::chrono::milliseconds timeout = 2s) {
    if (!clients_) clients_ = std::make_unique<UpstreamClients>(settings_, logger_);
    return clients_->upstream("users", server_.url(), timeout);
  }

  // No retries, a breaker that opens after `failures` failed calls, and those calls (the server
  // set to fail them).
  void failUntilTheBreakerOpens(int failures, std::chrono::milliseconds openFor) {
    settings_.retries = 0;
    settings_.breakerFailures = failures;
    settings_.breakerOpen = openFor;
    for (int i = 0; i < failures; ++i) call(upstream());
  }

  std::string metrics() const {
    std::string page = "\n";
    clients_->render(page);
    return page;
  }

  std::shared_ptr<test_support::CapturingSink> sink_ = std::make_shared<test_support::CapturingSink>();
  svc::Logger logger_{"test", svc::LogFormat::Json, svc::LogLevel::Debug, sink_};
  svc::host::UpstreamSettings settings_;
  std::unique_ptr<UpstreamClients> clients_;
  test_support::FakeUpstream server_;  ///< stopped first, which ends calls it still holds
};

}  // namespace

TEST_F(UpstreamCalls, SendTheRequestIdAndTraceParentAndCompleteOnTheClientsThreadAsPartOfTheRequest) {
  const auto request = requestWithBudget(2s);
  Outcome outcome;
  {
    const svc::RequestScope scope(request);
    outcome = call(upstream());
  }
  ASSERT_TRUE(outcome.response) << failureOf(outcome);
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(outcome.response->body, R"({"status":200})");
  EXPECT_EQ(outcome.response->header("content-type"), "application/json");
  const auto received = server_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "/users/42");
  EXPECT_EQ(received[0].headers.get("X-Request-Id", ""), "req-7f3a");
  EXPECT_EQ(received[0].headers.get("traceparent", ""), request->traceParent);
  EXPECT_NE(outcome.thread, std::this_thread::get_id());
  EXPECT_EQ(outcome.request, request) << "the completion runs as part of the request that called";
}

TEST_F(UpstreamCalls, GenerateARequestIdWhenNoRequestIsCurrent) {
  ASSERT_TRUE(call(upstream()).response);
  ASSERT_TRUE(call(upstream()).response);
  const auto received = server_.requests();
  ASSERT_EQ(received.size(), 2u);
  const std::string id = received[0].headers.get("X-Request-Id", "");
  EXPECT_EQ(id.size(), 32u) << id;
  EXPECT_NE(id, received[1].headers.get("X-Request-Id", ""));
  EXPECT_FALSE(received[0].headers.has("traceparent"));
}

TEST_F(UpstreamCalls, SendTheBodyAndGiveA4xxToTheCallerAsAResponse) {
  server_.answer(404);
  svc::UpstreamRequest request = post();
  request.headers.push_back({"Idempotency-Key", "k1"});
  const Outcome outcome = call(upstream(), request);
  ASSERT_TRUE(outcome.response) << failureOf(outcome);
  EXPECT_EQ(outcome.response->status, 404);
  const auto received = server_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].body, "{}");
  EXPECT_EQ(received[0].headers.get("Content-Type", ""), "application/json");
  EXPECT_EQ(received[0].headers.get("Idempotency-Key", ""), "k1");
}

TEST_F(UpstreamCalls, ReuseKeepAliveConnections) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(call(upstream()).response) << i;
  EXPECT_EQ(server_.requestCount(), 10);
  EXPECT_EQ(server_.accepted(), 1) << "one connection, kept alive";
}

TEST_F(UpstreamCalls, ReturnAtOnceAndFailABlackHoledUpstreamAtTheCallsTimeout) {
  server_.blackHole();
  const Outcome outcome = call(upstream(300ms));
  EXPECT_LT(outcome.callReturned, 50ms) << "call() waited";
  EXPECT_TRUE(startsWith(failureOf(outcome), "timed out: Upstream users did not answer")) << failureOf(outcome);
  EXPECT_GE(outcome.elapsed, 295ms);
  EXPECT_LT(outcome.elapsed, 500ms) << millis(outcome.elapsed) << " ms";
}

TEST_F(UpstreamCalls, EndWithWhatIsLeftOfTheRequestsBudgetWhenItEndsFirst) {
  server_.blackHole();
  Outcome outcome;
  {
    const svc::RequestScope scope(requestWithBudget(250ms));
    outcome = call(upstream(5s));
  }
  EXPECT_TRUE(startsWith(failureOf(outcome), "timed out")) << failureOf(outcome);
  EXPECT_GE(outcome.elapsed, 245ms);
  EXPECT_LT(outcome.elapsed, 450ms) << millis(outcome.elapsed) << " ms";
}

TEST_F(UpstreamCalls, WaitForASlowAnswerOnlyUntilTheDeadline) {
  server_.answer(200, 150ms);
  const Outcome slow = call(upstream(1s));
  ASSERT_TRUE(slow.response) << failureOf(slow);
  EXPECT_GE(slow.elapsed, 150ms);
  server_.answer(200, 1500ms);
  const Outcome tooSlow = call(upstream(200ms));
  EXPECT_TRUE(startsWith(failureOf(tooSlow), "timed out")) << failureOf(tooSlow);
  EXPECT_LT(tooSlow.elapsed, 400ms) << millis(tooSlow.elapsed) << " ms";
}

TEST_F(UpstreamCalls, RetryAnIdempotentCallUntilItIsAnswered) {
  server_.answerNext({503, 502, 200});
  const Outcome outcome = call(upstream());
  ASSERT_TRUE(outcome.response) << failureOf(outcome);
  EXPECT_EQ(outcome.response->status, 200);
  EXPECT_EQ(server_.requestCount(), 3);
  EXPECT_EQ(sample(metrics(), "upstream_retries_total{upstream=\"users\"}"), 2);
}

TEST_F(UpstreamCalls, NeverRetryACallThatIsNotIdempotentNorA500) {
  server_.answerNext({503});
  const Outcome notIdempotent = call(upstream(), post());
  EXPECT_EQ(failureOf(notIdempotent), "unavailable (retry after 1 s): Upstream users answered 503");
  EXPECT_EQ(server_.requestCount(), 1);
  server_.answer(500);
  const Outcome serverError = call(upstream());
  EXPECT_EQ(failureOf(serverError), "unavailable (retry after 1 s): Upstream users answered 500");
  EXPECT_EQ(server_.requestCount(), 2);
  EXPECT_EQ(sample(metrics(), "upstream_retries_total{upstream=\"users\"}"), 0);
}

TEST_F(UpstreamCalls, RetryARefusedOrBrokenConnectionOfAnIdempotentCallOnly) {
  settings_.breakerFailures = 100;
  server_.closeMidAnswer();
  const Outcome broken = call(upstream());
  EXPECT_TRUE(startsWith(failureOf(broken), "unavailable (retry after 1 s): Upstream users cannot be reached"))
      << failureOf(broken);
  EXPECT_EQ(server_.requestCount(), 3) << "the first attempt and 2 retries";
  call(upstream(), post());
  EXPECT_EQ(server_.requestCount(), 4);
  EXPECT_EQ(server_.accepted(), 4) << "a broken connection is not reused";
  server_.stop();
  EXPECT_TRUE(startsWith(failureOf(call(upstream())), "unavailable (retry after 1 s): Upstream users cannot be reached"));
  EXPECT_EQ(sample(metrics(), "upstream_retries_total{upstream=\"users\"}"), 4);
  EXPECT_EQ(sample(metrics(), "upstream_requests_total{upstream=\"users\",outcome=\"unavailable\"}"), 3);
}

TEST_F(UpstreamCalls, RetryNoMoreThanTheRetryBudgetAllows) {
  settings_.breakerFailures = 1000;
  server_.answer(503);
  for (int i = 0; i < 100; ++i) call(upstream());
  EXPECT_EQ(sample(metrics(), "upstream_retries_total{upstream=\"users\"}"), 20)
      << "20 % of 100 calls (the first 10 retries are the minimum)";
  EXPECT_EQ(server_.requestCount(), 120);
}

TEST_F(UpstreamCalls, OpenTheBreakerAfterConsecutiveFailuresThenFailFastWithoutConnecting) {
  server_.answer(500);
  failUntilTheBreakerOpens(3, 60s);
  ASSERT_EQ(server_.requestCount(), 3);
  std::vector<Clock::duration> durations;
  for (int i = 0; i < 20; ++i) {
    const Outcome refused = call(upstream());
    EXPECT_TRUE(refused.completedBeforeReturn);
    EXPECT_TRUE(startsWith(failureOf(refused), "unavailable (retry after 60 s): The circuit breaker of upstream users"))
        << failureOf(refused);
    durations.push_back(refused.callReturned);
  }
  std::sort(durations.begin(), durations.end());
  EXPECT_LT(durations[durations.size() / 2], 1ms) << "median of a refused call";
  EXPECT_EQ(server_.requestCount(), 3);
  EXPECT_EQ(server_.accepted(), 1);
  EXPECT_EQ(sink_->count("Upstream circuit breaker opened"), 1u);
  EXPECT_EQ(sink_->count(R"("cause":"answered 500")"), 1u) << sink_->lines().back();
  const std::string page = metrics();
  EXPECT_EQ(sample(page, "upstream_breaker_state{upstream=\"users\"}"), 2) << page;
  EXPECT_EQ(sample(page, "upstream_requests_total{upstream=\"users\",outcome=\"breaker_open\"}"), 20);
  EXPECT_EQ(sample(page, "upstream_requests_total{upstream=\"users\",outcome=\"server_error\"}"), 3);
}

TEST_F(UpstreamCalls, ProbeOnceTheBreakerWasOpenLongEnoughAndCloseWhenTheUpstreamIsBack) {
  server_.stop();
  failUntilTheBreakerOpens(3, 300ms);
  const Clock::time_point opened = Clock::now();
  ASSERT_EQ(sink_->count("Upstream circuit breaker opened"), 1u);
  server_.start();
  std::optional<Clock::time_point> answered;
  ASSERT_TRUE(eventually([&] {
    const Outcome outcome = call(upstream());
    if (outcome.response) answered = Clock::now();
    return outcome.response.has_value();
  })) << "the breaker never closed";
  EXPECT_GE(*answered - opened, 295ms) << "refused while open";
  EXPECT_LT(*answered - opened, 300ms + 100ms) << "recovery within breaker_open_ms and one call";
  EXPECT_EQ(server_.requestCount(), 1) << "nothing reached the upstream before the probe";
  EXPECT_EQ(sink_->count("Upstream circuit breaker closed"), 1u);
  EXPECT_EQ(sample(metrics(), "upstream_breaker_state{upstream=\"users\"}"), 0);
}

TEST_F(UpstreamCalls, OpenTheBreakerAgainWhenItsProbeFails) {
  server_.answer(500);
  failUntilTheBreakerOpens(2, 100ms);
  ASSERT_TRUE(eventually([&] { return sample(metrics(), "upstream_breaker_state{upstream=\"users\"}") == 1; }));
  EXPECT_EQ(failureOf(call(upstream())), "unavailable (retry after 1 s): Upstream users answered 500");
  EXPECT_EQ(server_.requestCount(), 3) << "the probe";
  EXPECT_TRUE(call(upstream()).completedBeforeReturn) << "refused at once: open again";
  EXPECT_EQ(server_.requestCount(), 3);
  EXPECT_EQ(sink_->count("Upstream circuit breaker opened"), 1u) << "one WARN per outage, not per probe";
}

TEST_F(UpstreamCalls, RefuseCallsBeyondMaxConnectionsAndTheQueueAtOnce) {
  settings_.maxConnections = 2;
  settings_.maxQueued = 1;
  server_.blackHole();
  svc::Upstream& users = upstream(300ms);
  std::vector<std::future<Outcome>> admitted;
  for (int i = 0; i < 3; ++i) admitted.push_back(start(users));
  const Outcome refused = call(users);
  EXPECT_TRUE(refused.completedBeforeReturn);
  EXPECT_EQ(failureOf(refused), "unavailable (retry after 1 s): Upstream users has too many calls in flight");
  ASSERT_TRUE(eventually([&] { return server_.requestCount() == 2; }));
  for (auto& future : admitted) EXPECT_TRUE(startsWith(failureOf(finish(future)), "timed out"));
  EXPECT_EQ(server_.accepted(), 2) << "at most max_connections at once; the queued call's deadline passed first";
  server_.answer(200);
  EXPECT_TRUE(call(users).response) << "room again";
  EXPECT_EQ(sample(metrics(), "upstream_requests_total{upstream=\"users\",outcome=\"rejected\"}"), 1);
}

TEST_F(UpstreamCalls, CountCallsByOutcomeWithADurationHistogramOnTheMetricsPage) {
  call(upstream());
  call(upstream());
  server_.answer(404);
  call(upstream());
  server_.answer(200, 300ms);  // past 0.25 s, which the quick calls stay under beside busy neighbours (not 25 ms)
  call(upstream());
  svc::host::HttpMetrics http({});
  svc::host::MetricsRegistry plugins(svc::host::hostMetricNames());
  const std::string page = "\n" + svc::host::metricsPage(http, nullptr, plugins.counter("dropped", "d"), *clients_, plugins);
  EXPECT_EQ(sample(page, "upstream_requests_total{upstream=\"users\",outcome=\"ok\"}"), 3) << page;
  EXPECT_EQ(sample(page, "upstream_requests_total{upstream=\"users\",outcome=\"client_error\"}"), 1);
  EXPECT_EQ(sample(page, "upstream_requests_total{upstream=\"users\",outcome=\"timeout\"}"), 0);
  EXPECT_TRUE(contains(page, "# TYPE upstream_request_duration_seconds histogram\n"));
  EXPECT_EQ(sample(page, "upstream_request_duration_seconds_count{upstream=\"users\"}"), 4);
  EXPECT_EQ(sample(page, "upstream_request_duration_seconds_bucket{upstream=\"users\",le=\"0.25\"}"), 3);
  EXPECT_EQ(sample(page, "upstream_request_duration_seconds_bucket{upstream=\"users\",le=\"+Inf\"}"), 4);
  EXPECT_EQ(sample(page, "upstream_breaker_state{upstream=\"users\"}"), 0);
  EXPECT_EQ(sample(page, "upstream_retries_total{upstream=\"users\"}"), 0);
}

TEST_F(UpstreamCalls, ShowNoUpstreamFamiliesWhenNoPluginCallsOne) {
  clients_ = std::make_unique<UpstreamClients>(settings_, logger_);
  EXPECT_EQ(metrics(), "\n");
}

TEST_F(UpstreamCalls, AcceptOnlyHttpHostPortAndOneURLPerName) {
  UpstreamClients clients(settings_, logger_);
  for (const char* url : {"https://127.0.0.1:8081", "http://127.0.0.1:8081/users", "127.0.0.1:8081", "",
                          "http://user@127.0.0.1:8081", "http://127.0.0.1:8081?x=1", "http://:8081"}) {
    EXPECT_THROW(clients.upstream("users", url, 1s), std::invalid_argument) << url;
  }
  EXPECT_THROW(clients.upstream("users", server_.url(), 0ms), std::invalid_argument);
  svc::Upstream& users = clients.upstream("users", server_.url(), 1s);
  EXPECT_EQ(users.name(), "users");
  EXPECT_NO_THROW(clients.upstream("users", server_.url() + "/", 2s)) << "the same service";
  EXPECT_NO_THROW(clients.upstream("stock", "http://stock:8080", 1s));
  EXPECT_THROW(clients.upstream("users", "http://127.0.0.1:1", 1s), std::invalid_argument);
  std::string page;
  clients.render(page);
  EXPECT_TRUE(contains(page, "upstream_breaker_state{upstream=\"users\"} 0\nupstream_breaker_state{upstream=\"stock\"} 0\n"))
      << page;
}
