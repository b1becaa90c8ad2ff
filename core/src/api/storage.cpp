#include "svc/storage.h"


namespace svc {

StorageUnavailable::StorageUnavailable(std::string cause)
    : HttpError(Problem{.status = 503, .detail = "The database is unavailable; retry later"}, {{"Retry-After", "1"}}),
      cause_(std::move(cause)) {}

SessionLease::SessionLease(std::unique_ptr<PooledConnection> connection, ConnectionOwner& owner)
    : connection_(std::move(connection)), owner_(&owner) {}

SessionLease::SessionLease(SessionLease&& other) noexcept
    : connection_(std::move(other.connection_)), owner_(other.owner_), reusable_(other.reusable_) {}

SessionLease::~SessionLease() {
  if (connection_) owner_->giveBack(std::move(connection_), reusable_);
}

}  // namespace svc
