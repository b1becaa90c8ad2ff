#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "models/idempotency.h"
#include "repository/idempotency_repository.h"
#include "services/order_service.h"
#include "svc/log.h"

namespace orders {

/// What a creation under a key came to: the order (created now, or by the key's first request
/// when `replayed`), and where that first request asked for it.
struct IdempotentOutcome {
  KeyedOrder order;
  bool replayed = false;
};

/// Order creation under an Idempotency-Key (IETF httpapi idempotency-key draft): the first
/// request with a key claims it, creates the order and records the order with the key, in one
/// transaction; a retry with the same order gets that order back (replayed); another order under
/// the key is svc::Invalid; a retry while a key is held unfinished (by a request of an instance
/// that died, or of the previous release) is svc::Conflict until its lock runs out.
/// A request whose connection broke so that whether its transaction committed could not be seen
/// leaves its key to the database: the key's next request here first waits for that session to
/// end (Storage::awaitEnd), so that it is never blocked behind the lost transaction.
class IdempotentCreation {
 public:
  IdempotentCreation(IdempotencyRepository& keys, OrderService& orders, const svc::Logger& logger,
                     std::chrono::seconds keyLifetime)
      : keys_(keys), orders_(orders), logger_(logger), keyLifetime_(keyLifetime) {}

  /// Validates the order (svc::Invalid) before the key is stored. `createdVia` is given back
  /// with every replay of the key (the routes: the collection path of the first request).
  IdempotentOutcome create(const NewOrder& order, const std::string& key, const std::string& createdVia);

 private:
  KeyClaim claimFor(const std::string& key, const NewOrder& order, const std::string& createdVia) const;
  CreationAttempt attempt(const KeyClaim& claim, const NewOrder& order);
  CreationAttempt settleInterrupted(const KeyClaim& claim, const svc::WorkInterrupted& failure, svc::Deadline deadline);
  void settleEarlierFailure(const std::string& key);
  void remember(const std::string& key, const std::string& lostSession);
  std::optional<std::string> takeLostSession(const std::string& key);
  void purgeExpiredKeysOncePerMinute() noexcept;

  IdempotencyRepository& keys_;
  OrderService& orders_;
  const svc::Logger& logger_;
  const std::chrono::seconds keyLifetime_;
  std::atomic<svc::EpochMicros> lastPurge_{0};
  std::mutex lostSessionsMutex_;
  /// By key: the server session of a request whose outcome stayed unknown, whose transaction may
  /// still hold the key's row.
  std::unordered_map<std::string, std::string> lostSessions_;
};

}  // namespace orders
