#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "models/idempotency.h"
#include "repository/idempotency_repository.h"
#include "services/order_service.h"
#include "svc/log.h"

namespace orders {

/// What a POST /orders with an Idempotency-Key answers: its own response, or the stored one.
struct IdempotentOutcome {
  StoredResponse response;
  bool replayed = false;
};

/// The response to store for a new order's id.
using ResponseFor = std::function<StoredResponse(std::int64_t)>;

/// Order creation under an Idempotency-Key (IETF httpapi idempotency-key draft): the first
/// request with a key creates the order and stores its response; a retry with the same order
/// replays it; another order under the key is svc::Invalid; a retry while the first runs is
/// svc::Conflict.
/// A request whose database failed does not keep its key locked: it releases the key when its
/// order is known not to be stored, or, when that could not be done (the database was away),
/// the key's next request here settles the failed one first (Storage::awaitEnd) and goes on.
class IdempotentCreation {
 public:
  IdempotentCreation(IdempotencyRepository& keys, OrderService& orders, const svc::Logger& logger,
                     std::chrono::seconds keyLifetime)
      : keys_(keys), orders_(orders), logger_(logger), keyLifetime_(keyLifetime) {}

  /// Validates the order (svc::Invalid) before the key is stored.
  IdempotentOutcome create(const NewOrder& order, const std::string& key, const ResponseFor& responseFor);

 private:
  /// A claim whose request failed and whose key could not be released: what settling it needs.
  struct Unsettled {
    KeyClaim claim;
    std::string lostSession;  ///< the server session whose work may still commit ("" if none)
  };

  KeyClaim claimFor(const std::string& key, const NewOrder& order) const;
  bool claimOrRemember(const KeyClaim& claim);
  StoredResponse createOwned(const KeyClaim& claim, const NewOrder& order, const ResponseFor& responseFor);
  StoredResponse settleInterrupted(const KeyClaim& claim, const svc::WorkInterrupted& failure, svc::Deadline deadline);
  void releaseAfterFailure(const KeyClaim& claim, const std::string& lostSession) noexcept;
  bool settleEarlierFailure(const std::string& key);
  void remember(const KeyClaim& claim, const std::string& lostSession);
  std::optional<Unsettled> takeUnsettled(const std::string& key);
  void purgeExpiredKeysOncePerMinute(svc::EpochMicros now) noexcept;

  IdempotencyRepository& keys_;
  OrderService& orders_;
  const svc::Logger& logger_;
  const std::chrono::seconds keyLifetime_;
  std::atomic<svc::EpochMicros> lastPurge_{0};
  std::mutex unsettledMutex_;
  std::unordered_map<std::string, Unsettled> unsettled_;  ///< by key
};

}  // namespace orders
