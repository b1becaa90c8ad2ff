#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "models/idempotency.h"
#include "repository/idempotency_repository.h"
#include "services/order_service.h"
#include "svc/json.h"
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
/// replays it; another order under the key is 422; a retry while the first runs is 409.
class IdempotentCreation {
 public:
  IdempotentCreation(IdempotencyRepository& keys, OrderService& orders, const svc::Logger& logger,
                     std::chrono::seconds keyLifetime)
      : keys_(keys), orders_(orders), logger_(logger), keyLifetime_(keyLifetime) {}

  /// Validates the body (400/422) and then the key (400) before the key is stored.
  IdempotentOutcome create(const svc::json::Value& body, const std::string& key, const ResponseFor& responseFor);

 private:
  KeyClaim claimFor(const std::string& key, const NewOrder& order) const;
  StoredResponse createOwned(const KeyClaim& claim, const NewOrder& order, const ResponseFor& responseFor);
  void releaseAfterFailure(const KeyClaim& claim) noexcept;
  void purgeExpiredKeysOncePerMinute(svc::EpochMicros now) noexcept;

  IdempotencyRepository& keys_;
  OrderService& orders_;
  const svc::Logger& logger_;
  const std::chrono::seconds keyLifetime_;
  std::atomic<svc::EpochMicros> lastPurge_{0};
};

}  // namespace orders
