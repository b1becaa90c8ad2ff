#include "upstream_client.h"

#include <algorithm>
#include <optional>
#include <random>
#include <thread>

#include "dispatcher.h"

namespace svc::host {

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kBackoffBase = 25ms;
constexpr std::chrono::milliseconds kBackoffCap = 400ms;
constexpr std::chrono::seconds kRetryAfter{1};

// Half the exponential step plus up to as much again at random, so that calls that failed
// together do not come back together.
std::chrono::milliseconds backoff(int retries) {
  const std::chrono::milliseconds step = std::min(kBackoffCap, kBackoffBase * (1 << std::min(retries, 8)));
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> jitter(0, step.count() / 2);
  return step / 2 + std::chrono::milliseconds(jitter(random));
}

Correlation correlationOfCurrentRequest() {
  const std::shared_ptr<const RequestContext>& request = currentRequest();
  if (!request) return Correlation{.requestId = newRequestId(), .traceParent = ""};
  return Correlation{.requestId = request->requestId, .traceParent = request->traceParent};
}

UpstreamClock::time_point deadlineOf(std::chrono::milliseconds timeout, UpstreamClock::time_point now) {
  const std::shared_ptr<const RequestContext>& request = currentRequest();
  const UpstreamClock::time_point own = now + timeout;
  return request ? std::min(own, request->deadline) : own;
}

bool failed(const Attempt& attempt) {
  return attempt.kind != Attempt::Kind::Answered || attempt.response.status >= 500;
}

// Answers that say the request was not processed, or that it may succeed soon.
bool isRetryableStatus(int status) { return status == 502 || status == 503 || status == 504; }

}  // namespace

struct UpstreamClient::Call {
  UpstreamRequest request;
  Completion<UpstreamResponse> done;
  Correlation correlation;
  UpstreamClock::time_point started;
  UpstreamClock::time_point deadline;
};

struct UpstreamClient::Ending {
  UpstreamOutcome outcome;
  Result<UpstreamResponse> result;
};

UpstreamClient::UpstreamClient(std::string name, UpstreamEndpoint endpoint, const UpstreamSettings& settings,
                               const Logger& logger)
    : name_(std::move(name)),
      endpoint_(endpoint),
      settings_(settings),
      logger_(logger),
      breaker_(settings.breakerFailures, settings.breakerOpen),
      retryBudget_(settings.retryBudgetPercent),
      connections_(std::move(endpoint)),
      threads_(settings.maxConnections, static_cast<std::size_t>(settings.maxConnections + settings.maxQueued),
               "upstream") {}

void UpstreamClient::call(UpstreamRequest request, Completion<UpstreamResponse> done,
                          std::chrono::milliseconds timeout) {
  const UpstreamClock::time_point now = UpstreamClock::now();
  if (const auto refused = breaker_.refusedFor(now)) {
    const auto retryAfter = std::max(kRetryAfter, std::chrono::ceil<std::chrono::seconds>(*refused));
    return refuse(done, UpstreamOutcome::BreakerOpen, breakerOpenDetail(), retryAfter);
  }
  if (!admit()) {
    return refuse(done, UpstreamOutcome::Rejected, "Upstream " + name_ + " has too many calls in flight", kRetryAfter);
  }
  retryBudget_.recordCall(now);
  auto call = std::make_shared<Call>(
      Call{std::move(request), std::move(done), correlationOfCurrentRequest(), now, deadlineOf(timeout, now)});
  if (threads_.offer([this, call] { run(*call); })) return;
  admitted_.fetch_sub(1, std::memory_order_relaxed);
  refuse(call->done, UpstreamOutcome::Rejected, "The service is stopping", kRetryAfter);
}

// Refused before anything is sent: the caller's own thread completes it.
void UpstreamClient::refuse(const Completion<UpstreamResponse>& done, UpstreamOutcome outcome,
                            const std::string& detail, std::chrono::seconds retryAfter) {
  metrics_.recordCall(outcome);
  done(std::make_exception_ptr(UpstreamUnavailable(name_, detail, retryAfter)));
}

bool UpstreamClient::admit() {
  if (admitted_.fetch_add(1, std::memory_order_relaxed) < settings_.maxConnections + settings_.maxQueued) return true;
  admitted_.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

void UpstreamClient::run(Call& call) {
  Ending ending = attempts(call);
  admitted_.fetch_sub(1, std::memory_order_relaxed);
  metrics_.recordCall(ending.outcome);
  metrics_.recordDuration(UpstreamClock::now() - call.started);
  try {
    call.done(std::move(ending.result));
  } catch (const std::exception& error) {  // the thread must live on
    logger_.error("Upstream call completion failed", {{"upstream", name_}, {"error", error.what()}});
  } catch (...) {
    logger_.error("Upstream call completion failed", {{"upstream", name_}, {"error", "unknown exception"}});
  }
}

UpstreamClient::Ending UpstreamClient::attempts(const Call& call) {
  if (stopping_) return refusal(UpstreamOutcome::Rejected, "The service is stopping");
  std::optional<Ending> last;
  for (int retries = 0;; ++retries) {
    if (UpstreamClock::now() >= call.deadline) return last ? std::move(*last) : timedOut(call);
    if (!breaker_.tryAcquire(UpstreamClock::now())) return last ? std::move(*last) : breakerOpen();
    if (retries > 0) metrics_.recordRetry();
    const Attempt attempt = exchange(connections_, call.request, call.correlation, call.deadline);
    report(breaker_.record(failed(attempt), UpstreamClock::now()), attempt);
    Ending ending = endingOf(attempt, call);
    if (!mayRetry(call, attempt, retries) || !waitBeforeRetry(call, retries)) return ending;
    last = std::move(ending);
  }
}

UpstreamClient::Ending UpstreamClient::endingOf(const Attempt& attempt, const Call& call) const {
  switch (attempt.kind) {
    case Attempt::Kind::TimedOut:
      return timedOut(call);
    case Attempt::Kind::Failed:
      return refusal(UpstreamOutcome::Unavailable, "Upstream " + name_ + " cannot be reached: " + attempt.error);
    case Attempt::Kind::Answered:
      break;
  }
  const int status = attempt.response.status;
  if (status >= 500) {
    return refusal(UpstreamOutcome::ServerError, "Upstream " + name_ + " answered " + std::to_string(status));
  }
  return Ending{status >= 400 ? UpstreamOutcome::ClientError : UpstreamOutcome::Ok, attempt.response};
}

UpstreamClient::Ending UpstreamClient::refusal(UpstreamOutcome outcome, const std::string& detail) const {
  return Ending{outcome, std::make_exception_ptr(UpstreamUnavailable(name_, detail, kRetryAfter))};
}

std::string UpstreamClient::breakerOpenDetail() const {
  return "The circuit breaker of upstream " + name_ + " is open: it failed too often";
}

// A retry or a probe found the breaker open: refused, with nothing sent.
UpstreamClient::Ending UpstreamClient::breakerOpen() const {
  return refusal(UpstreamOutcome::BreakerOpen, breakerOpenDetail());
}

UpstreamClient::Ending UpstreamClient::timedOut(const Call& call) const {
  const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(call.deadline - call.started);
  return Ending{UpstreamOutcome::Timeout,
                std::make_exception_ptr(TimedOut("Upstream " + name_ + " did not answer within the call's deadline (" +
                                                 std::to_string(budget.count()) + " ms)"))};
}

bool UpstreamClient::mayRetry(const Call& call, const Attempt& attempt, int retries) const {
  if (!call.request.idempotent || retries >= settings_.retries) return false;
  return attempt.kind != Attempt::Kind::Answered || isRetryableStatus(attempt.response.status);
}

// Only when there is time left for another attempt after the pause, and budget for it.
bool UpstreamClient::waitBeforeRetry(const Call& call, int retries) {
  const std::chrono::milliseconds pause = backoff(retries);
  if (UpstreamClock::now() + pause >= call.deadline) return false;
  if (!retryBudget_.tryRetry(UpstreamClock::now())) return false;
  std::this_thread::sleep_for(pause);
  return true;
}

void UpstreamClient::report(CircuitBreaker::Change change, const Attempt& last) {
  if (change == CircuitBreaker::Change::Opened) {
    const std::string cause =
        last.kind == Attempt::Kind::Answered ? "answered " + std::to_string(last.response.status) : last.error;
    logger_.warning("Upstream circuit breaker opened", {{"upstream", name_},
                                                        {"consecutive_failures", settings_.breakerFailures},
                                                        {"open_ms", settings_.breakerOpen.count()},
                                                        {"cause", cause}});
  } else if (change == CircuitBreaker::Change::Closed) {
    logger_.info("Upstream circuit breaker closed", {{"upstream", name_}});
  }
}

UpstreamSnapshot UpstreamClient::snapshot() const {
  UpstreamSnapshot snapshot{.name = name_};
  metrics_.read(snapshot);
  snapshot.breakerState = static_cast<int>(breaker_.state(UpstreamClock::now()));
  return snapshot;
}

void UpstreamClient::stop() {
  stopping_ = true;
  threads_.stop();
}

}  // namespace svc::host
