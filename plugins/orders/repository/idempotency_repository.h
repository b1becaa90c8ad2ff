#pragma once

#include <optional>
#include <string>

#include "models/idempotency.h"
#include "models/order.h"
#include "svc/storage.h"

namespace orders {

/// The idempotency_keys table (SQL only here): claiming a key, creating its order and recording
/// the order with the key in one transaction, and forgetting expired keys. Every lock and expiry
/// is set and compared with the database's clock.
class IdempotencyRepository {
 public:
  explicit IdempotencyRepository(svc::Storage& storage) : storage_(storage) {}

  /// In one transaction on one session: claims the key for `claim` (a new key, or one whose lock
  /// or lifetime ran out), inserts the order and records its id with the key. When another
  /// request holds or completed the key, writes nothing and gives the key as stored.
  CreationAttempt createOnce(const KeyClaim& claim, const NewOrder& order);
  std::optional<IdempotencyRecord> find(const std::string& key, svc::Deadline deadline);
  /// The key as stored once the work `failure` interrupted can no longer commit (see
  /// svc::Storage::afterEnd); nothing when that could not be known by `deadline`.
  std::optional<std::optional<IdempotencyRecord>> findAfterEnd(const svc::WorkInterrupted& failure,
                                                               const std::string& key, svc::Deadline deadline);
  /// Whether the server-side session a failed request worked on has ended (svc::Storage::awaitEnd).
  bool awaitEnd(const std::string& lostSession, svc::Deadline deadline) {
    return storage_.awaitEnd(lostSession, deadline);
  }
  /// When a request's database work starting now must be over.
  svc::Deadline workDeadline() const { return storage_.workDeadline(); }

  /// Forgets every key that expired, in bounded batches; a key still being processed only once
  /// its lock ran out too.
  void purgeExpired();

 private:
  svc::Storage& storage_;
};

}  // namespace orders
