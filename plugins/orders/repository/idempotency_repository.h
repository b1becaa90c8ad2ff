#pragma once

#include <functional>
#include <optional>
#include <string>

#include "models/idempotency.h"
#include "models/order.h"
#include "svc/storage.h"

namespace orders {

/// The idempotency_keys table (SQL only here): claiming a key, completing it together with the
/// order it created, and forgetting expired keys.
class IdempotencyRepository {
 public:
  explicit IdempotencyRepository(svc::Storage& storage) : storage_(storage) {}

  /// Makes `claim` the owner of its key: a new key, or one whose lock or lifetime has run out.
  /// False when another request holds it or completed it.
  bool claim(const KeyClaim& claim);
  std::optional<IdempotencyRecord> find(const std::string& key, svc::Deadline deadline = svc::Deadline::max());
  /// The key as stored once the work `failure` interrupted can no longer commit (see
  /// svc::Storage::afterEnd); nothing when that could not be known by `deadline`.
  std::optional<std::optional<IdempotencyRecord>> findAfterEnd(const svc::WorkInterrupted& failure,
                                                               const std::string& key, svc::Deadline deadline);
  /// Whether the server-side session a failed request worked on has ended (svc::Storage::awaitEnd).
  bool awaitEnd(const std::string& lostSession, svc::Deadline deadline) {
    return storage_.awaitEnd(lostSession, deadline);
  }
  /// When a request's database work starting now must be over.
  svc::Deadline workDeadline() const { return std::chrono::steady_clock::now() + storage_.workTimeout(); }

  /// In one transaction: inserts the order, and stores `responseFor(order id)` as the key's
  /// response if `claim` still owns the key. Nothing is stored (and the empty result says so)
  /// when another request took the key over meanwhile.
  std::optional<StoredResponse> createOrderAndComplete(const KeyClaim& claim, const NewOrder& order,
                                                       const std::function<StoredResponse(std::int64_t)>& responseFor);
  /// Forgets the key if `claim` still owns it and has not completed it (its order failed).
  void release(const KeyClaim& claim, svc::Deadline deadline = svc::Deadline::max());
  /// Forgets every key that expired before `now`, in bounded batches; a key still being processed
  /// only once its lock ran out too.
  void purgeExpired(svc::EpochMicros now);

 private:
  svc::Storage& storage_;
};

}  // namespace orders
