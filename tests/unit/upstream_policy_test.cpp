#include <gtest/gtest.h>

#include "upstream_policy.h"

using namespace std::chrono_literals;
using svc::host::CircuitBreaker;
using svc::host::RetryBudget;
using svc::host::UpstreamClock;

namespace {

const UpstreamClock::time_point t0 = UpstreamClock::time_point(1000s);

// Fails `count` attempts at t0; the last change.
CircuitBreaker::Change fail(CircuitBreaker& breaker, int count) {
  CircuitBreaker::Change change = CircuitBreaker::Change::None;
  for (int i = 0; i < count; ++i) {
    EXPECT_TRUE(breaker.tryAcquire(t0));
    change = breaker.record(true, t0);
  }
  return change;
}

}  // namespace

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresOnly) {
  CircuitBreaker breaker(3, 500ms);
  EXPECT_EQ(fail(breaker, 2), CircuitBreaker::Change::None);
  EXPECT_EQ(breaker.record(false, t0), CircuitBreaker::Change::None);  // a success starts the count again
  EXPECT_EQ(fail(breaker, 2), CircuitBreaker::Change::None);
  EXPECT_FALSE(breaker.refusedFor(t0));
  EXPECT_EQ(fail(breaker, 1), CircuitBreaker::Change::Opened);
  EXPECT_EQ(breaker.state(t0), CircuitBreaker::State::Open);
  EXPECT_EQ(breaker.refusedFor(t0 + 100ms), 400ms);
  EXPECT_FALSE(breaker.tryAcquire(t0 + 499ms));
}

TEST(CircuitBreaker, LetsOneProbeThroughOnceOpenLongEnoughAndClosesOnItsSuccess) {
  CircuitBreaker breaker(1, 500ms);
  fail(breaker, 1);
  EXPECT_EQ(breaker.state(t0 + 500ms), CircuitBreaker::State::HalfOpen) << "the next call probes";
  EXPECT_FALSE(breaker.refusedFor(t0 + 500ms));
  EXPECT_TRUE(breaker.tryAcquire(t0 + 500ms));
  EXPECT_FALSE(breaker.tryAcquire(t0 + 501ms)) << "one probe at a time";
  EXPECT_TRUE(breaker.refusedFor(t0 + 501ms)) << "calls are refused while the probe is out";
  EXPECT_EQ(breaker.record(false, t0 + 510ms), CircuitBreaker::Change::Closed);
  EXPECT_EQ(breaker.state(t0 + 510ms), CircuitBreaker::State::Closed);
  EXPECT_TRUE(breaker.tryAcquire(t0 + 510ms));
}

TEST(CircuitBreaker, AFailedProbeOpensItAgainQuietly) {
  CircuitBreaker breaker(1, 500ms);
  fail(breaker, 1);
  ASSERT_TRUE(breaker.tryAcquire(t0 + 600ms));
  EXPECT_EQ(breaker.record(true, t0 + 600ms), CircuitBreaker::Change::None) << "already reported open";
  EXPECT_EQ(breaker.state(t0 + 600ms), CircuitBreaker::State::Open);
  EXPECT_EQ(breaker.refusedFor(t0 + 700ms), 400ms) << "open for another full period";
}

TEST(CircuitBreaker, IgnoresAttemptsThatEndAfterItOpened) {
  CircuitBreaker breaker(1, 500ms);
  fail(breaker, 1);
  EXPECT_EQ(breaker.record(false, t0 + 1ms), CircuitBreaker::Change::None);
  EXPECT_EQ(breaker.state(t0 + 1ms), CircuitBreaker::State::Open);
}

TEST(RetryBudget, AllowsTheMinimumThenAShareOfTheCalls) {
  RetryBudget budget(20);
  for (int i = 0; i < 10; ++i) budget.recordCall(t0);
  int retries = 0;
  while (budget.tryRetry(t0)) ++retries;
  EXPECT_EQ(retries, static_cast<int>(RetryBudget::kMinRetries));
  for (int i = 0; i < 90; ++i) budget.recordCall(t0 + 1s);
  while (budget.tryRetry(t0 + 1s)) ++retries;
  EXPECT_EQ(retries, 20) << "20 % of 100 calls";
}

TEST(RetryBudget, ForgetsWhatIsOlderThanTenSeconds) {
  RetryBudget budget(0);
  while (budget.tryRetry(t0)) {
  }
  EXPECT_FALSE(budget.tryRetry(t0 + 9s));
  EXPECT_TRUE(budget.tryRetry(t0 + 10s));
}
