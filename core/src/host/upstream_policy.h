#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

/// The rules that keep calls to a failing upstream from making things worse: a circuit breaker
/// and a retry budget. Both take the time as an argument, so that tests need not wait for it.
namespace svc::host {

using UpstreamClock = std::chrono::steady_clock;

/// Closed: calls go through. After `failuresToOpen` consecutive failed attempts it opens: calls
/// are refused for `openFor`, after which one attempt goes through as a probe (half-open); its
/// success closes the breaker, its failure opens it again.
class CircuitBreaker {
 public:
  enum class State { Closed = 0, HalfOpen = 1, Open = 2 };  ///< the values of upstream_breaker_state
  enum class Change { None, Opened, Closed };

  CircuitBreaker(int failuresToOpen, std::chrono::milliseconds openFor);

  /// How long calls are still refused; nothing when an attempt may go through now.
  std::optional<std::chrono::milliseconds> refusedFor(UpstreamClock::time_point now) const;
  /// Whether an attempt may go now (taking the probe when its time has come); each attempt
  /// allowed must be recorded.
  bool tryAcquire(UpstreamClock::time_point now);
  /// The outcome of an attempt allowed by tryAcquire; what changed (a failed probe that opens it
  /// again is no change worth reporting).
  Change record(bool failed, UpstreamClock::time_point now);
  /// Half-open also once it has been open long enough for the next call to probe.
  State state(UpstreamClock::time_point now) const;

 private:
  const int failuresToOpen_;
  const std::chrono::milliseconds openFor_;
  mutable std::mutex mutex_;
  State state_ = State::Closed;
  int failures_ = 0;
  UpstreamClock::time_point openUntil_;
};

/// Retries allowed over the last 10 s: retry_budget_percent of the calls, but at least
/// kMinRetries, so that a quiet service still retries while one under load cannot multiply it.
class RetryBudget {
 public:
  static constexpr std::uint64_t kMinRetries = 10;

  explicit RetryBudget(int percent) : percent_(static_cast<std::uint64_t>(percent)) {}

  void recordCall(UpstreamClock::time_point now);
  /// Takes one retry from the budget; false when it is spent.
  bool tryRetry(UpstreamClock::time_point now);

 private:
  struct Second {
    std::int64_t index = -1;
    std::uint64_t calls = 0;
    std::uint64_t retries = 0;
  };

  Second& second(UpstreamClock::time_point now);

  const std::uint64_t percent_;
  std::mutex mutex_;
  std::array<Second, 10> window_;
};

}  // namespace svc::host
