#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/order.h"
#include "repository/coalescer.h"
#include "svc/storage.h"

namespace orders {

/// How concurrent calls share statements: at most `maxBatch` orders per statement, and at most
/// `concurrentWrites` INSERTs and `concurrentReads` SELECTs running at once.
struct BatchLimits {
  std::size_t maxBatch = 64;
  std::size_t concurrentWrites = 4;
  std::size_t concurrentReads = 2;
};

/// The orders table: the only place that knows SQL, and the same SQL on every backend.
/// Concurrent calls are coalesced: one multi-row INSERT (one commit) for the orders created
/// meanwhile, one `WHERE id IN (...)` for the orders looked up meanwhile. Batches come in
/// power-of-two sizes, so each connection prepares at most log2(max_batch) + 1 statements of
/// each kind (each size is its own statement; 64 of them cost 25 MB at 256 connections).
class OrderRepository {
 public:
  OrderRepository(svc::Storage& storage, BatchLimits limits);

  /// Inserts the order with `status` and returns its id once it is committed. When the connection
  /// broke while the INSERT may have been committed, looks whether it was, within the request's
  /// deadline: throws svc::OutcomeUnknown when that could not be known, StorageUnavailable when
  /// the order is known not to be stored.
  std::int64_t insert(const NewOrder& order, std::string_view status);
  std::optional<Order> findById(std::int64_t id);
  /// The id of the order written with `requestToken`, if it is stored; by `deadline`.
  std::optional<std::int64_t> findByRequestToken(std::int64_t requestToken, svc::Deadline deadline);
  /// The orders matching `filter`, newest (highest id) first.
  std::vector<Order> list(const OrderFilter& filter);
  /// Sets a "created" order to "cancelled" with updated_at = `now`; false when no order changed
  /// (absent, or not "created").
  bool cancel(std::int64_t id, svc::EpochMicros now);

  /// One order of a coalesced lookup: found, absent, or unreadable (then only its caller fails).
  struct Lookup {
    std::optional<Order> order;
    std::string error;
  };

 private:
  /// A request's item in a coalesced batch: the batch must end by the earliest deadline of its items.
  template <class Value>
  struct Pending {
    Value value;
    svc::Deadline deadline;
  };
  using PendingInsert = Pending<OrderRow>;
  using PendingLookup = Pending<std::int64_t>;

  std::vector<std::int64_t> insertBatch(const std::vector<PendingInsert>& rows);
  std::vector<Lookup> findBatch(const std::vector<PendingLookup>& ids);
  std::int64_t resolveInsert(const OrderRow& row, const svc::WorkInterrupted& failure, svc::Deadline deadline);

  svc::Storage& storage_;
  Coalescer<PendingInsert, std::int64_t> inserts_;
  Coalescer<PendingLookup, Lookup> lookups_;
};

/// A row for `order` with a fresh request token.
OrderRow newOrderRow(const NewOrder& order, std::string_view status);

/// Inserts one row on `lease`, outside the coalesced batches (e.g. inside the caller's
/// transaction), and returns its id.
std::int64_t insertOrder(svc::SessionLease& lease, const OrderRow& row);

}  // namespace orders
