#include "repository/order_repository.h"

#include "repository/returned_rows.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include <Poco/Data/Statement.h>

using namespace Poco::Data::Keywords;

namespace orders {

namespace {

// "($1, $2, $3, $4), ($5, ...": `groups` groups of `size` placeholders.
std::string placeholders(std::size_t groups, std::size_t size) {
  std::string text;
  for (std::size_t group = 0; group < groups; ++group) {
    text += group == 0 ? "(" : ", (";
    for (std::size_t i = 1; i <= size; ++i) {
      text += (i == 1 ? "$" : ", $") + std::to_string(group * size + i);
    }
    text += ')';
  }
  return text;
}


constexpr const char* kOrderMayExist =
    "The connection to the database failed while the order was being stored, and whether it was "
    "could not be seen: the order may exist. Retry with the same Idempotency-Key to get its answer "
    "without creating it twice; check before retrying without one.";

// A random positive 63-bit number: two requests sharing one is as likely as guessing it.
std::int64_t newRequestToken() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::int64_t token = 0;
  while (token == 0) token = static_cast<std::int64_t>(generator() >> 1);
  return token;
}

std::string insertSql(std::size_t rows) {
  return "INSERT INTO orders (user_id, product_id, quantity, status, request_token) VALUES " + placeholders(rows, 5) +
         " RETURNING id, user_id, product_id, quantity, status";
}

// The columns every read returns; updated_at falls back to created_at for a never-updated order.
constexpr std::string_view kOrderColumns =
    "id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at)";

std::string selectSql(std::size_t ids) {
  std::string in = placeholders(1, ids);
  return "SELECT " + std::string(kOrderColumns) + " FROM orders WHERE id IN " + in;
}

/// The filters a listing statement has, as bits: each combination is its own statement, so
/// that each can use its index.
constexpr unsigned kByUser = 1;
constexpr unsigned kByStatus = 2;
constexpr unsigned kBeforeId = 4;

unsigned listShape(const OrderFilter& filter) {
  return (filter.userId ? kByUser : 0u) | (filter.status ? kByStatus : 0u) | (filter.beforeId ? kBeforeId : 0u);
}

std::string listSql(unsigned shape) {
  std::string where;
  int placeholder = 0;
  const auto condition = [&](std::string_view columnAndOperator) {
    where += (where.empty() ? " WHERE " : " AND ") + std::string(columnAndOperator) + " $" + std::to_string(++placeholder);
  };
  if (shape & kByUser) condition("user_id =");
  if (shape & kByStatus) condition("status =");
  if (shape & kBeforeId) condition("id <");
  return "SELECT " + std::string(kOrderColumns) + " FROM orders" + where + " ORDER BY id DESC LIMIT $" +
         std::to_string(placeholder + 1);
}

constexpr const char* kCancelSql =
    "UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 RETURNING id";

template <class... Columns>
void clearAll(Columns&... columns) {
  (columns.clear(), ...);
}

/// The result columns of a statement that reads orders (kOrderColumns).
struct OrderColumns {
  void bindTo(Poco::Data::Statement& statement) {
    statement, into(ids), into(userIds), into(productIds), into(quantities), into(statuses), into(createdAts),
        into(updatedAts);
  }
  void clear() { clearAll(ids, userIds, productIds, quantities, statuses, createdAts, updatedAts); }
  std::vector<Poco::Int64> ids;
  std::vector<std::int32_t> userIds, productIds, quantities;
  std::vector<std::string> statuses, createdAts, updatedAts;
};

/// INSERT of a fixed number of rows, prepared once: its parameters are bound to `rows`.
struct InsertStatement {
  InsertStatement(Poco::Data::Session& session, std::size_t count) : rows(count), statement(session) {
    statement << insertSql(count);
    for (auto& row : rows) {
      statement, use(row.order.userId), use(row.order.productId), use(row.order.quantity), use(row.status),
          use(row.requestToken);
    }
    statement, into(ids), into(userIds), into(productIds), into(quantities), into(statuses);
  }
  std::vector<OrderRow> rows;
  std::vector<Poco::Int64> ids;
  std::vector<std::int32_t> userIds, productIds, quantities;
  std::vector<std::string> statuses;
  Poco::Data::Statement statement;
};

/// SELECT of a fixed number of ids, prepared once: its parameters are bound to `ids`.
struct SelectStatement {
  SelectStatement(Poco::Data::Session& session, std::size_t count) : wanted(count), statement(session) {
    statement << selectSql(count);
    for (auto& id : wanted) statement, use(id);
    columns.bindTo(statement);
  }
  std::vector<Poco::Int64> wanted;
  OrderColumns columns;
  Poco::Data::Statement statement;
};

/// A listing of one shape, prepared once: its parameters are bound to the members.
struct ListStatement {
  ListStatement(Poco::Data::Session& session, unsigned shape) : statement(session) {
    statement << listSql(shape);
    if (shape & kByUser) statement, use(userId);
    if (shape & kByStatus) statement, use(status);
    if (shape & kBeforeId) statement, use(beforeId);
    statement, use(limit);
    columns.bindTo(statement);
  }
  std::int32_t userId = 0;
  std::string status;
  Poco::Int64 beforeId = 0;
  Poco::Int64 limit = 0;
  OrderColumns columns;
  Poco::Data::Statement statement;
};

/// The cancel UPDATE, prepared once: it changes only an order that is still "created".
struct CancelStatement {
  explicit CancelStatement(Poco::Data::Session& session) : statement(session) {
    statement << kCancelSql, use(cancelled), use(updatedAt), use(id), use(created), into(changed);
  }
  std::string cancelled{kStatusCancelled};
  std::string updatedAt;
  Poco::Int64 id = 0;
  std::string created{kStatusCreated};
  std::vector<Poco::Int64> changed;
  Poco::Data::Statement statement;
};

/// The lookup of an order by the token written with it, prepared once.
struct TokenStatement {
  explicit TokenStatement(Poco::Data::Session& session) : statement(session) {
    statement << "SELECT id FROM orders WHERE request_token = $1", use(token), into(ids);
  }
  Poco::Int64 token = 0;
  std::vector<Poco::Int64> ids;
  Poco::Data::Statement statement;
};

/// The statements of one connection, one per batch size used on it, kept with the connection.
class OrderStatements {
 public:
  explicit OrderStatements(Poco::Data::Session& session) : session_(session) {}

  std::vector<std::int64_t> insert(const std::vector<OrderRow>& rows) {
    InsertStatement& insert = prepared(inserts_, rows.size());
    insert.rows = rows;
    clearAll(insert.ids, insert.userIds, insert.productIds, insert.quantities, insert.statuses);
    insert.statement.execute();
    std::vector<StoredRow> returned;
    for (std::size_t r = 0; r < insert.ids.size(); ++r) {
      returned.push_back(StoredRow{insert.ids[r],
                                   OrderRow{NewOrder{insert.userIds[r], insert.productIds[r], insert.quantities[r]},
                                            insert.statuses[r]}});
    }
    return matchReturnedRows(rows, returned);
  }

  std::vector<OrderRepository::Lookup> find(const std::vector<std::int64_t>& ids) {
    SelectStatement& select = prepared(selects_, ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) select.wanted[i] = ids[i];
    select.columns.clear();
    select.statement.execute();
    std::map<std::int64_t, OrderRepository::Lookup> found;
    for (std::size_t r = 0; r < select.columns.ids.size(); ++r) found.emplace(select.columns.ids[r], rowAt(select.columns, r));
    std::vector<OrderRepository::Lookup> lookups;
    for (const std::int64_t id : ids) {
      const auto it = found.find(id);
      lookups.push_back(it == found.end() ? OrderRepository::Lookup{} : it->second);
    }
    return lookups;
  }

  std::vector<Order> list(const OrderFilter& filter) {
    ListStatement& list = prepared(lists_, listShape(filter));
    list.userId = filter.userId.value_or(0);
    list.status = filter.status.value_or("");
    list.beforeId = filter.beforeId.value_or(0);
    list.limit = filter.limit;
    list.columns.clear();
    list.statement.execute();
    std::vector<Order> orders;
    for (std::size_t r = 0; r < list.columns.ids.size(); ++r) {
      OrderRepository::Lookup row = rowAt(list.columns, r);
      if (!row.error.empty()) throw std::runtime_error(row.error);
      orders.push_back(std::move(*row.order));
    }
    return orders;
  }

  std::optional<std::int64_t> findByToken(std::int64_t token) {
    if (!byToken_) byToken_ = std::make_unique<TokenStatement>(session_);
    byToken_->token = token;
    byToken_->ids.clear();
    byToken_->statement.execute();
    if (byToken_->ids.empty()) return std::nullopt;
    return byToken_->ids.front();
  }

  bool cancel(std::int64_t id, svc::EpochMicros now) {
    if (!cancel_) cancel_ = std::make_unique<CancelStatement>(session_);
    cancel_->id = id;
    cancel_->updatedAt = svc::formatRfc3339Millis(now);
    cancel_->changed.clear();
    cancel_->statement.execute();
    return !cancel_->changed.empty();
  }

 private:
  template <class Statement, class Key>
  Statement& prepared(std::map<Key, std::unique_ptr<Statement>>& statements, Key key) {
    auto& statement = statements[key];
    if (!statement) statement = std::make_unique<Statement>(session_, key);
    return *statement;
  }

  static OrderRepository::Lookup rowAt(const OrderColumns& columns, std::size_t r) {
    const std::optional<svc::EpochMicros> createdAt = svc::parseTimestamp(columns.createdAts[r]);
    const std::optional<svc::EpochMicros> updatedAt = svc::parseTimestamp(columns.updatedAts[r]);
    if (!createdAt || !updatedAt) {
      return {.order = std::nullopt,
              .error = "order " + std::to_string(columns.ids[r]) + " has an unreadable created_at: " +
                       columns.createdAts[r] + " or updated_at: " + columns.updatedAts[r]};
    }
    return {.order = Order{.id = columns.ids[r],
                 .userId = columns.userIds[r],
                 .productId = columns.productIds[r],
                 .quantity = columns.quantities[r],
                 .status = columns.statuses[r],
                 .createdAt = *createdAt,
                 .updatedAt = *updatedAt},
            .error = {}};
  }

  Poco::Data::Session& session_;
  std::map<std::size_t, std::unique_ptr<InsertStatement>> inserts_;
  std::map<std::size_t, std::unique_ptr<SelectStatement>> selects_;
  std::map<unsigned, std::unique_ptr<ListStatement>> lists_;
  std::unique_ptr<CancelStatement> cancel_;
  std::unique_ptr<TokenStatement> byToken_;
};

template <class Item>
svc::Deadline earliest(const std::vector<Item>& items) {
  svc::Deadline deadline = svc::Deadline::max();
  for (const Item& item : items) deadline = std::min(deadline, item.deadline);
  return deadline;
}

}  // namespace

OrderRepository::OrderRepository(svc::Storage& storage, BatchLimits limits)
    : storage_(storage),
      inserts_([this](const std::vector<PendingInsert>& rows) { return insertBatch(rows); },
               BatchPolicy{limits.maxBatch, limits.concurrentWrites, true}),
      lookups_([this](const std::vector<PendingLookup>& ids) { return findBatch(ids); },
               BatchPolicy{limits.maxBatch, limits.concurrentReads, true}) {}

svc::Deadline OrderRepository::workDeadline() const { return std::chrono::steady_clock::now() + storage_.workTimeout(); }

std::int64_t OrderRepository::insert(const NewOrder& order, std::string_view status) {
  const svc::Deadline deadline = workDeadline();
  const OrderRow row{order, std::string(status), newRequestToken()};
  try {
    return inserts_.submit(PendingInsert{row, deadline});
  } catch (const svc::WorkInterrupted& failure) {
    return resolveInsert(row, failure, deadline + svc::kSettleAllowance);
  }
}

// The INSERT of `row` (maybe in a batch of others) may have been committed before its connection
// broke: once that connection's session has ended on the server, the order is there or not.
std::int64_t OrderRepository::resolveInsert(const OrderRow& row, const svc::WorkInterrupted& failure,
                                            svc::Deadline deadline) {
  const auto found = storage_.afterEnd(failure, deadline, [&] { return findByRequestToken(row.requestToken, deadline); });
  if (!found) throw svc::OutcomeUnknown(kOrderMayExist);
  if (!*found) throw svc::StorageUnavailable("the order was not stored: " + failure.cause());
  return **found;
}

std::optional<Order> OrderRepository::findById(std::int64_t id) {
  Lookup lookup = lookups_.submit(PendingLookup{id, workDeadline()});
  if (!lookup.error.empty()) throw std::runtime_error(lookup.error);
  return std::move(lookup.order);
}

std::optional<std::int64_t> OrderRepository::findByRequestToken(std::int64_t requestToken, svc::Deadline deadline) {
  return storage_.withSessionUntil(
      deadline, [&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().findByToken(requestToken); });
}

std::vector<Order> OrderRepository::list(const OrderFilter& filter) {
  return storage_.withSession([&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().list(filter); });
}

bool OrderRepository::cancel(std::int64_t id, svc::EpochMicros now) {
  return storage_.withSession([&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().cancel(id, now); });
}

std::int64_t insertOrder(svc::SessionLease& lease, const OrderRow& row) {
  return lease.prepared<OrderStatements>().insert({row}).at(0);
}

OrderRow newOrderRow(const NewOrder& order, std::string_view status) {
  return OrderRow{order, std::string(status), newRequestToken()};
}

std::vector<std::int64_t> OrderRepository::insertBatch(const std::vector<PendingInsert>& pending) {
  std::vector<OrderRow> rows;
  rows.reserve(pending.size());
  for (const PendingInsert& item : pending) rows.push_back(item.value);
  return storage_.withSessionUntil(earliest(pending),
                                   [&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().insert(rows); });
}

std::vector<OrderRepository::Lookup> OrderRepository::findBatch(const std::vector<PendingLookup>& pending) {
  std::vector<std::int64_t> ids;
  ids.reserve(pending.size());
  for (const PendingLookup& item : pending) ids.push_back(item.value);
  return storage_.withSessionUntil(earliest(pending),
                                   [&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().find(ids); });
}

}  // namespace orders
