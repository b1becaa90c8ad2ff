#include "upstream_policy.h"

#include <algorithm>

namespace svc::host {

CircuitBreaker::CircuitBreaker(int failuresToOpen, std::chrono::milliseconds openFor)
    : failuresToOpen_(failuresToOpen), openFor_(openFor) {}

std::optional<std::chrono::milliseconds> CircuitBreaker::refusedFor(UpstreamClock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (state_ == State::HalfOpen) return openFor_;  // the probe is under way
  if (state_ == State::Closed || now >= openUntil_) return std::nullopt;
  return std::chrono::ceil<std::chrono::milliseconds>(openUntil_ - now);
}

bool CircuitBreaker::tryAcquire(UpstreamClock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == State::Closed) return true;
  if (state_ == State::HalfOpen || now < openUntil_) return false;
  state_ = State::HalfOpen;
  return true;
}

CircuitBreaker::Change CircuitBreaker::record(bool failed, UpstreamClock::time_point now) {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::Open:  // an attempt that began before it opened tells nothing new
      return Change::None;
    case State::HalfOpen:
      if (failed) {
        state_ = State::Open;
        openUntil_ = now + openFor_;
        return Change::None;
      }
      state_ = State::Closed;
      failures_ = 0;
      return Change::Closed;
    case State::Closed:
      break;
  }
  if (!failed) {
    failures_ = 0;
    return Change::None;
  }
  if (++failures_ < failuresToOpen_) return Change::None;
  state_ = State::Open;
  openUntil_ = now + openFor_;
  return Change::Opened;
}

CircuitBreaker::State CircuitBreaker::state(UpstreamClock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (state_ == State::Open && now >= openUntil_) return State::HalfOpen;
  return state_;
}

RetryBudget::Second& RetryBudget::second(UpstreamClock::time_point now) {
  const std::int64_t index = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Second& slot = window_[static_cast<std::size_t>(index) % window_.size()];
  if (slot.index != index) slot = Second{.index = index};
  return slot;
}

void RetryBudget::recordCall(UpstreamClock::time_point now) {
  std::lock_guard lock(mutex_);
  ++second(now).calls;
}

bool RetryBudget::tryRetry(UpstreamClock::time_point now) {
  std::lock_guard lock(mutex_);
  Second& current = second(now);
  const std::int64_t oldest = current.index - static_cast<std::int64_t>(window_.size()) + 1;
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;
  for (const Second& slot : window_) {
    if (slot.index < oldest) continue;
    calls += slot.calls;
    retries += slot.retries;
  }
  if (retries >= std::max(kMinRetries, calls * percent_ / 100)) return false;
  ++current.retries;
  return true;
}

}  // namespace svc::host
