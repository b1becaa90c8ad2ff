#include "svc/storage.h"

#include <mutex>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "pooled_connection.h"

namespace svc {

namespace {

constexpr std::chrono::seconds kRetrySoon{1};

std::string shortageDetail(DatabaseShortage shortage) {
  switch (shortage) {
    case DatabaseShortage::DiskSpace:
      return "The database's disk is full: nothing can be stored until space is freed; reading still works. Retry later";
    case DatabaseShortage::DiskIo:
      return "The database's disk reports input/output errors; retry later";
    case DatabaseShortage::Memory:
      return "The database server is out of memory; retry later";
    case DatabaseShortage::Connections:
      return "The database server accepts no more connections (too many clients); retry later";
  }
  return "The database is unavailable; retry later";
}

// A full disk is not freed in a second: clients need not come back at once.
std::chrono::seconds shortageRetryAfter(DatabaseShortage shortage) {
  return std::chrono::seconds(shortage == DatabaseShortage::DiskSpace || shortage == DatabaseShortage::DiskIo ? 30 : 5);
}

}  // namespace

StorageUnavailable::StorageUnavailable(std::string cause)
    : StorageUnavailable(std::move(cause), "The database is unavailable; retry later") {}

StorageUnavailable::StorageUnavailable(DatabaseShortage shortage, std::string cause)
    : Unavailable(shortageDetail(shortage), shortageRetryAfter(shortage)), cause_(std::move(cause)) {}

StorageUnavailable::StorageUnavailable(std::string cause, std::string detail)
    : Unavailable(detail, kRetrySoon), cause_(std::move(cause)) {}

OutcomeUnknown::OutcomeUnknown(std::string detail) : Unavailable(detail, kRetrySoon) {}

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

void SessionLease::finish() { owner_->finishLease(*connection_); }

Poco::Data::Session& SessionLease::session() { return connection_->session; }

const std::string& SessionLease::serverSession() const { return connection_->serverSession; }

bool SessionLease::aborted() const { return connection_->abortStage.load() > 0; }

std::shared_ptr<void>& SessionLease::preparedSlot(const std::type_info& type) {
  return connection_->prepared[std::type_index(type)];
}

SessionLease::~SessionLease() {
  if (connection_) owner_->giveBack(std::move(connection_), reusable_);
}

}  // namespace svc
