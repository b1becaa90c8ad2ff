#include "repository/order_repository.h"

#include "repository/returned_rows.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "svc/query.h"

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

/// A row of kOrderColumns.
using OrderRecord = std::tuple<Poco::Int64, std::int32_t, std::int32_t, std::int32_t, std::string, svc::Timestamp,
                               svc::Timestamp>;
using InsertQuery = svc::Query<std::tuple<std::int32_t, std::int32_t, std::int32_t, std::string, Poco::Int64>,
                               std::tuple<Poco::Int64, std::int32_t, std::int32_t, std::int32_t, std::string>>;
using SelectQuery = svc::Query<std::tuple<Poco::Int64>, OrderRecord>;
using CancelQuery = svc::Query<std::tuple<std::string, svc::Timestamp, Poco::Int64, std::string>, std::tuple<Poco::Int64>>;
using TokenQuery = svc::Query<std::tuple<Poco::Int64>, std::tuple<Poco::Int64>>;

/// The parameters of a listing of `Shape`, in the order of listSql(Shape)'s placeholders.
template <unsigned Shape>
auto listParameters(const OrderFilter& filter) {
  const auto optionally = [](auto present, auto value) {
    if constexpr (decltype(present)::value) {
      return std::tuple{value};
    } else {
      return std::tuple{};
    }
  };
  return std::tuple_cat(optionally(std::bool_constant<(Shape & kByUser) != 0>{}, filter.userId.value_or(0)),
                        optionally(std::bool_constant<(Shape & kByStatus) != 0>{}, filter.status.value_or("")),
                        optionally(std::bool_constant<(Shape & kBeforeId) != 0>{}, Poco::Int64{filter.beforeId.value_or(0)}),
                        std::tuple{Poco::Int64{filter.limit}});
}

template <unsigned Shape>
using ListQuery = svc::Query<decltype(listParameters<Shape>(OrderFilter{})), OrderRecord>;

/// One listing statement per shape, prepared when first used.
template <unsigned... Shapes>
struct ListQueries {
  std::tuple<std::unique_ptr<ListQuery<Shapes>>...> byShape;

  /// Runs `use(query, parameters)` with the query of the filter's shape.
  template <class Use>
  auto run(Poco::Data::Session& session, const OrderFilter& filter, Use&& use) {
    using Result = decltype(use(*std::get<0>(byShape), listParameters<0>(filter)));
    std::optional<Result> result;
    const unsigned shape = listShape(filter);
    const auto tryShape = [&](auto& query, auto shapeConstant) {
      constexpr unsigned kShape = decltype(shapeConstant)::value;
      if (kShape != shape) return;
      if (!query) query = std::make_unique<ListQuery<kShape>>(session, listSql(kShape));
      result.emplace(use(*query, listParameters<kShape>(filter)));
    };
    (tryShape(std::get<std::unique_ptr<ListQuery<Shapes>>>(byShape), std::integral_constant<unsigned, Shapes>{}), ...);
    return std::move(*result);
  }
};

/// The statements of one connection, one per batch size used on it, kept with the connection.
class OrderStatements {
 public:
  explicit OrderStatements(Poco::Data::Session& session) : session_(session) {}

  std::vector<std::int64_t> insert(const std::vector<OrderRow>& rows) {
    std::vector<InsertQuery::Parameters> values;
    values.reserve(rows.size());
    for (const OrderRow& row : rows) {
      values.emplace_back(row.order.userId, row.order.productId, row.order.quantity, row.status, row.requestToken);
    }
    std::vector<StoredRow> returned;
    for (auto& [id, userId, productId, quantity, status] : prepared(inserts_, rows.size()).runGroups(values).all()) {
      returned.push_back(StoredRow{id, OrderRow{NewOrder{userId, productId, quantity}, std::move(status)}});
    }
    return matchReturnedRows(rows, returned);
  }

  std::vector<OrderRepository::Lookup> find(const std::vector<std::int64_t>& ids) {
    std::vector<SelectQuery::Parameters> wanted(ids.begin(), ids.end());
    const auto rows = prepared(selects_, ids.size()).runGroups(wanted);
    std::map<std::int64_t, OrderRepository::Lookup> found;
    for (std::size_t r = 0; r < rows.size(); ++r) found.emplace(rows.get<0>(r), lookupAt(rows, r));
    std::vector<OrderRepository::Lookup> lookups;
    for (const std::int64_t id : ids) {
      const auto it = found.find(id);
      lookups.push_back(it == found.end() ? OrderRepository::Lookup{} : it->second);
    }
    return lookups;
  }

  std::vector<Order> list(const OrderFilter& filter) {
    return lists_.run(session_, filter, [](auto& query, const auto& parameters) {
      const auto rows = std::apply([&](const auto&... values) { return query.run(values...); }, parameters);
      std::vector<Order> orders;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        OrderRepository::Lookup row = lookupAt(rows, r);
        if (!row.error.empty()) throw std::runtime_error(row.error);
        orders.push_back(std::move(*row.order));
      }
      return orders;
    });
  }

  std::optional<std::int64_t> findByToken(std::int64_t token) {
    if (!byToken_) byToken_ = std::make_unique<TokenQuery>(session_, "SELECT id FROM orders WHERE request_token = $1");
    const auto rows = byToken_->run(token);
    if (rows.empty()) return std::nullopt;
    return rows.get<0>(0);
  }

  bool cancel(std::int64_t id, svc::EpochMicros now) {
    if (!cancel_) cancel_ = std::make_unique<CancelQuery>(session_, kCancelSql);
    return !cancel_->run(std::string(kStatusCancelled), svc::Timestamp{now}, id, std::string(kStatusCreated)).empty();
  }

 private:
  // A statement of `count` rows or ids, prepared once per count used.
  template <class Query>
  Query& prepared(std::map<std::size_t, std::unique_ptr<Query>>& statements, std::size_t count) {
    auto& statement = statements[count];
    if (!statement) statement = std::make_unique<Query>(session_, sqlFor<Query>(count), count);
    return *statement;
  }

  template <class Query>
  static std::string sqlFor(std::size_t count) {
    if constexpr (std::is_same_v<Query, InsertQuery>) {
      return insertSql(count);
    } else {
      return selectSql(count);
    }
  }

  /// Row `r` as an order, or why it cannot be read (then only its caller fails).
  template <class Rows>
  static OrderRepository::Lookup lookupAt(const Rows& rows, std::size_t r) {
    try {
      auto [id, userId, productId, quantity, status, createdAt, updatedAt] = rows.at(r);
      return {.order = Order{.id = id,
                             .userId = userId,
                             .productId = productId,
                             .quantity = quantity,
                             .status = std::move(status),
                             .createdAt = createdAt.micros,
                             .updatedAt = updatedAt.micros},
              .error = {}};
    } catch (const svc::UnreadableColumn& unreadable) {
      return {.order = std::nullopt,
              .error = "order " + std::to_string(rows.template get<0>(r)) + " has an unreadable " +
                       (unreadable.column() == 5 ? "created_at: " : "updated_at: ") + unreadable.text()};
    }
  }

  Poco::Data::Session& session_;
  std::map<std::size_t, std::unique_ptr<InsertQuery>> inserts_;
  std::map<std::size_t, std::unique_ptr<SelectQuery>> selects_;
  ListQueries<0, 1, 2, 3, 4, 5, 6, 7> lists_;
  std::unique_ptr<CancelQuery> cancel_;
  std::unique_ptr<TokenQuery> byToken_;
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

std::int64_t OrderRepository::insert(const NewOrder& order, std::string_view status) {
  const svc::Deadline deadline = storage_.workDeadline();
  const OrderRow row = newOrderRow(order, status);
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
  Lookup lookup = lookups_.submit(PendingLookup{id, storage_.workDeadline()});
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
