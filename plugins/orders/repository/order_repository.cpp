#include "repository/order_repository.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>

#include "repository/order_statements.h"

namespace orders {

namespace {

using Ids = std::vector<std::int64_t>;
using OrderColumns =
    std::tuple<std::int64_t, std::int32_t, std::int32_t, std::int32_t, std::string, svc::Timestamp, svc::Timestamp>;

const svc::Query<std::tuple<Ids, Ids, Ids, Ids, std::string_view>, std::tuple<std::int64_t, std::int64_t>> kInsert{
    sql::kInsertOrders};
const svc::Query<std::tuple<Ids>, OrderColumns> kFind{sql::kFindOrders};
const svc::Query<std::tuple<Ids>, std::tuple<std::int64_t, std::int64_t>> kFindByToken{sql::kFindOrdersByRequestToken};
const svc::Query<std::tuple<std::int64_t, std::int64_t>, OrderColumns> kList{sql::kListOrders};
const svc::Query<std::tuple<std::int32_t, std::int64_t, std::int64_t>, OrderColumns> kListOfUser{sql::kListOrdersOfUser};
const svc::Query<std::tuple<std::string, std::int64_t, std::int64_t>, OrderColumns> kListInStatus{
    sql::kListOrdersInStatus};
const svc::Query<std::tuple<std::int32_t, std::string, std::int64_t, std::int64_t>, OrderColumns> kListOfUserInStatus{
    sql::kListOrdersOfUserInStatus};
const svc::Query<std::tuple<std::string_view, svc::Timestamp, std::int64_t, std::string_view>, OrderColumns> kCancel{
    sql::kCancelOrder};

using Key = std::tuple<std::string>;
const svc::Query<std::tuple<std::string, std::string, std::string, std::int64_t, std::int64_t>, Key> kInsertKey{
    sql::kInsertIdempotencyKey};
const svc::Query<std::tuple<std::string, std::string, std::string, std::int64_t, std::int64_t>, Key> kTakeOverKey{
    sql::kTakeOverIdempotencyKey};
const svc::Query<std::tuple<std::int64_t, std::string, std::string>, std::tuple<>> kCompleteKey{
    sql::kCompleteIdempotencyKey};
const svc::Query<Key, std::tuple<std::string, std::string, std::optional<std::int64_t>, std::optional<int>,
                                 std::optional<std::string>>>
    kFindKey{sql::kFindIdempotencyKey};
const svc::Query<std::tuple<>, Key> kPurgeKeys{sql::kPurgeIdempotencyKeys};

template <class Rows>
Order orderAt(const Rows& rows, std::size_t r) {
  auto [id, userId, productId, quantity, status, createdAt, updatedAt] = rows.at(r);
  return Order{.id = id,
               .userId = userId,
               .productId = productId,
               .quantity = quantity,
               .status = std::move(status),
               .createdAt = createdAt.micros,
               .updatedAt = updatedAt.micros};
}

template <class Rows>
std::string unreadable(const Rows& rows, std::size_t r, const svc::UnreadableColumn& column) {
  return "order " + std::to_string(rows.template get<0>(r)) + " has an unreadable " +
         (column.column() == 5 ? "created_at: " : "updated_at: ") + column.text();
}

/// Inserts `rows` in one statement and returns their ids, in their order.
Ids insertRows(svc::SessionLease& lease, const std::vector<OrderRow>& rows) {
  Ids users, products, quantities, tokens;
  for (const OrderRow& row : rows) {
    users.push_back(row.order.userId);
    products.push_back(row.order.productId);
    quantities.push_back(row.order.quantity);
    tokens.push_back(row.requestToken);
  }
  std::map<std::int64_t, std::int64_t> idByToken;
  for (const auto& [id, token] : kInsert.run(lease, users, products, quantities, tokens, kStatusCreated).all()) {
    idByToken.emplace(token, id);
  }
  Ids ids;
  for (const std::int64_t token : tokens) ids.push_back(idByToken.at(token));
  return ids;
}

/// The ids of `rows` when the statement that inserted them was committed (all of them: it is one
/// statement), nothing when it was not.
std::optional<Ids> storedRows(svc::SessionLease& lease, const std::vector<OrderRow>& rows) {
  Ids tokens;
  for (const OrderRow& row : rows) tokens.push_back(row.requestToken);
  std::map<std::int64_t, std::int64_t> idByToken;
  for (const auto& [id, token] : kFindByToken.run(lease, tokens).all()) idByToken.emplace(token, id);
  if (idByToken.empty()) return std::nullopt;
  Ids ids;
  for (const std::int64_t token : tokens) ids.push_back(idByToken.at(token));
  return ids;
}

/// The order of a key completed by a release before migration 005 (during a rolling upgrade):
/// only its stored Location ("<collection>/<id>") names it.
std::optional<std::int64_t> orderOfStoredLocation(const std::string& location) {
  const std::size_t slash = location.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::int64_t id = 0;
  const char* end = location.data() + location.size();
  const auto [ptr, error] = std::from_chars(location.data() + slash + 1, end, id);
  if (error != std::errc() || ptr != end) return std::nullopt;
  return id;
}

std::optional<IdempotencyRecord> findKey(svc::SessionLease& lease, const std::string& key) {
  const auto rows = kFindKey.run(lease, key);
  if (rows.empty()) return std::nullopt;
  auto [hash, owner, orderId, status, location] = rows.at(0);
  IdempotencyRecord record{.requestHash = std::move(hash), .ownerToken = std::move(owner), .orderId = orderId};
  if (!orderId && status && location) record.orderId = orderOfStoredLocation(*location);
  return record;
}

bool claims(svc::SessionLease& lease, const KeyClaim& claim) {
  return !kInsertKey.run(lease, claim.key, claim.requestHash, claim.ownerToken, claim.lockMicros, claim.lifetimeMicros)
              .empty() ||
         !kTakeOverKey.run(lease, claim.key, claim.requestHash, claim.ownerToken, claim.lockMicros, claim.lifetimeMicros)
              .empty();
}

template <class Item>
svc::Deadline earliest(const std::vector<Item>& items) {
  svc::Deadline deadline = svc::Deadline::max();
  for (const Item& item : items) deadline = std::min(deadline, item.deadline);
  return deadline;
}

}  // namespace

OrderRepository::OrderRepository(svc::Storage& storage, BatchLimits limits, svc::Executor& workers)
    : storage_(storage),
      inserts_([this](const std::vector<PendingInsert>& rows) { return insertBatch(rows); },
               BatchPolicy{limits.maxBatch, limits.concurrentWrites}, workers),
      lookups_([this](const std::vector<PendingLookup>& ids) { return findBatch(ids); },
               BatchPolicy{limits.maxBatch, limits.concurrentReads}, workers) {}

void OrderRepository::insert(const OrderRow& row, svc::Completion<std::int64_t> done) {
  inserts_.submit(PendingInsert{row, storage_.workDeadline()}, std::move(done));
}

void OrderRepository::findById(std::int64_t id, svc::Completion<std::optional<Order>> done) {
  lookups_.submit(PendingLookup{id, storage_.workDeadline()}, [done = std::move(done)](svc::Result<Lookup> found) {
    done.complete([&] {
      Lookup& lookup = found.value();
      if (!lookup.unreadable.empty()) throw std::runtime_error(lookup.unreadable);
      return std::move(lookup.order);
    });
  });
}

// One statement, so that the batch is committed whole or not at all: a lost connection is
// settled by looking for any of its request tokens.
std::vector<std::int64_t> OrderRepository::insertBatch(const std::vector<PendingInsert>& pending) {
  std::vector<OrderRow> rows;
  rows.reserve(pending.size());
  for (const PendingInsert& item : pending) rows.push_back(item.value);
  return storage_.writeOnce(
      earliest(pending), [&](svc::SessionLease& lease) { return insertRows(lease, rows); },
      [&](svc::SessionLease& lease) { return storedRows(lease, rows); });
}

std::vector<OrderRepository::Lookup> OrderRepository::findBatch(const std::vector<PendingLookup>& pending) {
  Ids ids;
  ids.reserve(pending.size());
  for (const PendingLookup& item : pending) ids.push_back(item.value);
  return storage_.withSessionUntil(earliest(pending), [&](svc::SessionLease& lease) {
    const auto rows = kFind.run(lease, ids);
    std::map<std::int64_t, Lookup> found;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      try {
        found[rows.get<0>(r)] = Lookup{.order = orderAt(rows, r), .unreadable = {}};
      } catch (const svc::UnreadableColumn& column) {
        found[rows.get<0>(r)] = Lookup{.order = std::nullopt, .unreadable = unreadable(rows, r, column)};
      }
    }
    std::vector<Lookup> lookups;
    for (const std::int64_t id : ids) {
      const auto it = found.find(id);
      lookups.push_back(it == found.end() ? Lookup{} : it->second);
    }
    return lookups;
  });
}

std::vector<Order> OrderRepository::list(const OrderFilter& filter) {
  const std::int64_t before = filter.beforeId.value_or(std::numeric_limits<std::int64_t>::max());
  return storage_.withSession([&](svc::SessionLease& lease) {
    const auto read = [](const auto& rows) {
      std::vector<Order> orders;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        try {
          orders.push_back(orderAt(rows, r));
        } catch (const svc::UnreadableColumn& column) {
          throw std::runtime_error(unreadable(rows, r, column));
        }
      }
      return orders;
    };
    if (filter.userId && filter.status) {
      return read(kListOfUserInStatus.run(lease, *filter.userId, *filter.status, before, filter.limit));
    }
    if (filter.userId) return read(kListOfUser.run(lease, *filter.userId, before, filter.limit));
    if (filter.status) return read(kListInStatus.run(lease, *filter.status, before, filter.limit));
    return read(kList.run(lease, before, filter.limit));
  });
}

OrderRepository::Cancellation OrderRepository::cancel(std::int64_t id, svc::EpochMicros now) {
  return storage_.withSession([&](svc::SessionLease& lease) {
    const auto cancelled = kCancel.run(lease, kStatusCancelled, svc::Timestamp{now}, id, kStatusCreated);
    if (!cancelled.empty()) return Cancellation{.order = orderAt(cancelled, 0), .changed = true};
    const auto rows = kFind.run(lease, Ids{id});
    return Cancellation{.order = rows.empty() ? std::nullopt : std::optional<Order>(orderAt(rows, 0)), .changed = false};
  });
}

// The claim, the order and the completion are one transaction: a failure known to have come
// before the commit leaves nothing behind (the key stays free for a retry); one that may have
// come after is settled by looking for the order's request token.
CreationAttempt OrderRepository::createUnderKey(const KeyClaim& claim, const OrderRow& row) {
  return storage_.writeOnce(
      storage_.workDeadline(),
      [&](svc::SessionLease& lease) {
        lease.begin();
        if (!claims(lease, claim)) {
          CreationAttempt existing{.createdId = std::nullopt, .existing = orders::findKey(lease, claim.key)};
          lease.rollback();
          return existing;
        }
        const std::int64_t id = insertRows(lease, {row}).at(0);
        kCompleteKey.run(lease, id, claim.key, claim.ownerToken);
        lease.commit();
        return CreationAttempt{.createdId = id, .existing = std::nullopt};
      },
      [&](svc::SessionLease& lease) -> std::optional<CreationAttempt> {
        const auto stored = storedRows(lease, {row});
        if (!stored) return std::nullopt;
        return CreationAttempt{.createdId = stored->at(0), .existing = std::nullopt};
      });
}

std::optional<IdempotencyRecord> OrderRepository::findKey(const std::string& key) {
  return storage_.withSession([&](svc::SessionLease& lease) { return orders::findKey(lease, key); });
}

void OrderRepository::purgeExpiredKeys() {
  std::size_t purged = sql::kPurgeBatch;
  while (purged == sql::kPurgeBatch) {
    purged = storage_.withSession([&](svc::SessionLease& lease) { return kPurgeKeys.run(lease).size(); });
  }
}

}  // namespace orders
