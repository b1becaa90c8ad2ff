#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace svc {

/// What every piece of work done for one request carries: its id (in every log line written for
/// it, echoed to the client, sent on every call to another service) and the end of its budget.
struct RequestContext {
  std::string requestId;
  /// The W3C trace context to send on calls to other services ("" when the client sent none).
  std::string traceParent;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// The request the calling thread works for, or nullptr.
const std::shared_ptr<const RequestContext>& currentRequest() noexcept;

/// Makes `context` the current request of this thread until destroyed (then the previous one).
/// The host sets it around a handler; svc::Completion carries it to the thread that completes.
class RequestScope {
 public:
  explicit RequestScope(std::shared_ptr<const RequestContext> context) noexcept;
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::shared_ptr<const RequestContext> previous_;
};

}  // namespace svc
