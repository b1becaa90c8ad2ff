#include "svc/context.h"

namespace svc {

namespace {
thread_local std::shared_ptr<const RequestContext> current;
}  // namespace

const std::shared_ptr<const RequestContext>& currentRequest() noexcept { return current; }

RequestScope::RequestScope(std::shared_ptr<const RequestContext> context) noexcept : previous_(std::move(current)) {
  current = std::move(context);
}

RequestScope::~RequestScope() { current = std::move(previous_); }

}  // namespace svc
