#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/idempotency.h"
#include "models/order.h"
#include "repository/coalescer.h"
#include "svc/async.h"
#include "svc/storage.h"

namespace orders {

/// How concurrent requests share statements: at most `maxBatch` orders per statement, and at
/// most `concurrentWrites` INSERTs and `concurrentReads` SELECTs running at once.
struct BatchLimits {
  std::size_t maxBatch = 64;
  std::size_t concurrentWrites = 4;
  std::size_t concurrentReads = 2;
};

/// The orders and idempotency_keys tables: the only place that runs SQL (repository/order_statements.h).
/// Orders created and looked up by concurrent requests are coalesced: one INSERT (one commit)
/// for the orders created meanwhile, one SELECT for the orders looked up meanwhile, completed
/// from the worker that ran them.
class OrderRepository {
 public:
  OrderRepository(svc::Storage& storage, BatchLimits limits, svc::Executor& workers);

  /// Stores `row` as "created" and completes with its id once committed. When the connection
  /// broke while the INSERT may have been committed, first finds out whether it was.
  void insert(const OrderRow& row, svc::Completion<std::int64_t> done);
  void findById(std::int64_t id, svc::Completion<std::optional<Order>> done);
  /// The orders matching `filter`, newest (highest id) first.
  std::vector<Order> list(const OrderFilter& filter);
  /// What cancelling an order came to: the order after it (none when there is no such order),
  /// and whether it changed (it was "created").
  struct Cancellation {
    std::optional<Order> order;
    bool changed = false;
  };
  /// Sets a "created" order to "cancelled" with updated_at = `now`.
  Cancellation cancel(std::int64_t id, svc::EpochMicros now);

  /// In one transaction: claims the key for `claim` (a new key, or one whose lock or lifetime ran
  /// out), inserts `row` and records its id with the key. When another request holds or completed
  /// the key, writes nothing and gives the key as stored. When the connection broke, finds out
  /// whether the transaction was committed first.
  CreationAttempt createUnderKey(const KeyClaim& claim, const OrderRow& row);
  /// The key as stored, if it is.
  std::optional<IdempotencyRecord> findKey(const std::string& key);
  /// Forgets every key that expired, in bounded batches; a key still being processed only once
  /// its lock ran out too.
  void purgeExpiredKeys();

 private:
  /// A request's item in a coalesced batch: the batch must end by the earliest deadline of its items.
  template <class Value>
  struct Pending {
    Value value;
    svc::Deadline deadline;
  };
  using PendingInsert = Pending<OrderRow>;
  using PendingLookup = Pending<std::int64_t>;
  /// One order of a coalesced lookup: found, absent, or unreadable (then only its request fails).
  struct Lookup {
    std::optional<Order> order;
    std::string unreadable;  ///< why the row cannot be read; empty when it can
  };

  std::vector<std::int64_t> insertBatch(const std::vector<PendingInsert>& rows);
  std::vector<Lookup> findBatch(const std::vector<PendingLookup>& ids);

  svc::Storage& storage_;
  Coalescer<PendingInsert, std::int64_t> inserts_;
  Coalescer<PendingLookup, Lookup> lookups_;
};

}  // namespace orders
