#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "settings.h"
#include "svc/log.h"
#include "svc/upstream.h"
#include "upstream_exchange.h"
#include "upstream_metrics.h"
#include "upstream_policy.h"
#include "worker_pool.h"

namespace svc::host {

/// The client of one upstream. A call is admitted (or refused at once: breaker open, too many
/// calls in flight), then runs on one of the client's own threads (a bulkhead: at most
/// max_connections at once, max_queued waiting), where its attempts, retries and completion run.
class UpstreamClient {
 public:
  UpstreamClient(std::string name, UpstreamEndpoint endpoint, const UpstreamSettings& settings, const Logger& logger);
  ~UpstreamClient() { stop(); }
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  const std::string& name() const { return name_; }
  const UpstreamEndpoint& endpoint() const { return endpoint_; }
  /// See svc::Upstream::call; `timeout` bounds the call unless the current request's budget ends sooner.
  void call(UpstreamRequest request, Completion<UpstreamResponse> done, std::chrono::milliseconds timeout);
  UpstreamSnapshot snapshot() const;
  /// Calls still waiting fail at once; those under way finish (by their deadlines); then the threads end.
  void stop();

 private:
  struct Call;
  struct Ending;

  void refuse(const Completion<UpstreamResponse>& done, UpstreamOutcome outcome, const std::string& detail,
              std::chrono::seconds retryAfter);
  bool admit();
  void run(Call& call);
  Ending attempts(const Call& call);
  Ending endingOf(const Attempt& attempt, const Call& call) const;
  Ending refusal(UpstreamOutcome outcome, const std::string& detail) const;
  Ending timedOut(const Call& call) const;
  Ending breakerOpen() const;
  std::string breakerOpenDetail() const;
  bool mayRetry(const Call& call, const Attempt& attempt, int retries) const;
  bool waitBeforeRetry(const Call& call, int retries);
  void report(CircuitBreaker::Change change, const Attempt& last);

  const std::string name_;
  const UpstreamEndpoint endpoint_;
  const UpstreamSettings settings_;
  const Logger& logger_;
  CircuitBreaker breaker_;
  RetryBudget retryBudget_;
  UpstreamConnections connections_;
  UpstreamMetrics metrics_;
  std::atomic<int> admitted_{0};  ///< calls queued or under way
  std::atomic<bool> stopping_{false};
  WorkerPool threads_;  ///< last: its threads stop before what they use goes
};

/// What svc::Upstreams::upstream hands out: one client, with the timeout its caller asked for.
class UpstreamHandle final : public Upstream {
 public:
  UpstreamHandle(UpstreamClient& client, std::chrono::milliseconds timeout) : client_(client), timeout_(timeout) {}
  const std::string& name() const override { return client_.name(); }
  void call(UpstreamRequest request, Completion<UpstreamResponse> done) override {
    client_.call(std::move(request), std::move(done), timeout_);
  }

 private:
  UpstreamClient& client_;
  std::chrono::milliseconds timeout_;
};

}  // namespace svc::host
