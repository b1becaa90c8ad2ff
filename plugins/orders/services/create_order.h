#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "models/idempotency.h"
#include "models/order.h"
#include "repository/order_repository.h"
#include "services/user_directory.h"
#include "svc/async.h"
#include "svc/log.h"
#include "svc/metrics.h"

namespace orders {

/// Creating an order, the one way for every request: the rules are checked once, the order is
/// stored once (under its Idempotency-Key when there is one: IETF httpapi idempotency-key draft),
/// and a write whose connection was lost is settled before it is answered, keyed or not.
///
/// With a directory of users, the order's user must exist (svc::Invalid pointing at /user_id,
/// nothing stored). Without a key the order then joins a coalesced INSERT. With one, the key is
/// claimed, the order inserted and recorded with the key in one transaction (on a worker): a
/// retry with the same order gets that order back (replayed, without asking the directory
/// again); another order under the key is svc::Invalid; a retry while a key is held unfinished
/// (by a request of an instance that died) is svc::Conflict until its lock runs out.
class CreateOrder {
 public:
  /// `users`: who may order; nullptr to take any user_id.
  CreateOrder(OrderRepository& repository, UserDirectory* users, svc::Executor& workers, const svc::Logger& logger,
              svc::Counter& created, std::chrono::seconds keyLifetime)
      : repository_(repository),
        users_(users),
        workers_(workers),
        logger_(logger),
        created_(created),
        keyLifetime_(keyLifetime) {}

  /// Checks `draft` (svc::Invalid at once), stores it and completes with the order's id.
  void create(const OrderDraft& draft, const std::optional<std::string>& key, svc::Completion<CreatedOrder> done);

 private:
  /// Runs `next` once the order's user is known to exist, or completes `done` with why not.
  void afterUserCheck(const NewOrder& order, const svc::Completion<CreatedOrder>& done, std::function<void()> next);
  void store(const NewOrder& order, svc::Completion<CreatedOrder> done);
  void storeUnderKey(const NewOrder& order, const KeyClaim& claim, svc::Completion<CreatedOrder> done);
  void createUnderKeyOnWorker(const NewOrder& order, const KeyClaim& claim, svc::Completion<CreatedOrder> done);
  CreatedOrder createUnderKey(const NewOrder& order, const KeyClaim& claim);
  KeyClaim claimFor(const std::string& key, const NewOrder& order) const;
  void recordCreated(std::int64_t id, const NewOrder& order);
  void purgeExpiredKeysOncePerMinute() noexcept;

  OrderRepository& repository_;
  UserDirectory* users_;
  svc::Executor& workers_;
  const svc::Logger& logger_;
  svc::Counter& created_;
  const std::chrono::seconds keyLifetime_;
  std::atomic<svc::EpochMicros> lastPurge_{0};
};

}  // namespace orders
