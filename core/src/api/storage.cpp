#include "svc/storage.h"

#include <mutex>
#include <vector>


namespace svc {

StorageUnavailable::StorageUnavailable(std::string cause)
    : HttpError(Problem{.status = 503, .detail = "The database is unavailable; retry later"}, {{"Retry-After", "1"}}),
      cause_(std::move(cause)) {}

OutcomeUnknown::OutcomeUnknown(std::string detail)
    : HttpError(Problem{.status = 503,
                        .type = std::string(kOutcomeUnknownProblemType),
                        .title = "Outcome unknown",
                        .detail = std::move(detail)},
                {{"Retry-After", "1"}}) {}

SessionLease::SessionLease(std::unique_ptr<PooledConnection> connection, ConnectionOwner& owner)
    : connection_(std::move(connection)), owner_(&owner) {}

SessionLease::SessionLease(SessionLease&& other) noexcept
    : connection_(std::move(other.connection_)), owner_(other.owner_), reusable_(other.reusable_) {}

void SessionLease::abandonPrepared() {
  if (connection_->prepared.empty()) return;
  // Kept, never destroyed, reachable from a global (so leak checkers do not count them): a few
  // KB per failed connection, a handful per database outage.
  static std::mutex mutex;
  static auto* abandoned = new std::vector<std::unordered_map<std::type_index, std::shared_ptr<void>>>();
  std::lock_guard lock(mutex);
  abandoned->push_back(std::move(connection_->prepared));
  connection_->prepared.clear();
}

SessionLease::~SessionLease() {
  if (connection_) owner_->giveBack(std::move(connection_), reusable_);
}

}  // namespace svc
