#include "repository/order_repository.h"

#include "repository/returned_rows.h"

#include <map>
#include <memory>
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

std::string insertSql(std::size_t rows) {
  return "INSERT INTO orders (user_id, product_id, quantity, status) VALUES " + placeholders(rows, 4) +
         " RETURNING id, user_id, product_id, quantity, status";
}

std::string selectSql(std::size_t ids) {
  std::string in = placeholders(1, ids);
  return "SELECT id, user_id, product_id, quantity, status, created_at FROM orders WHERE id IN " + in;
}

/// INSERT of a fixed number of rows, prepared once: its parameters are bound to `rows`.
struct InsertStatement {
  InsertStatement(Poco::Data::Session& session, std::size_t count) : rows(count), statement(session) {
    statement << insertSql(count);
    for (auto& row : rows) statement, use(row.order.userId), use(row.order.productId), use(row.order.quantity), use(row.status);
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
    statement, into(ids), into(userIds), into(productIds), into(quantities), into(statuses), into(createdAts);
  }
  std::vector<Poco::Int64> wanted;
  std::vector<Poco::Int64> ids;
  std::vector<std::int32_t> userIds, productIds, quantities;
  std::vector<std::string> statuses, createdAts;
  Poco::Data::Statement statement;
};

template <class... Columns>
void clearAll(Columns&... columns) {
  (columns.clear(), ...);
}

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
    clearAll(select.ids, select.userIds, select.productIds, select.quantities, select.statuses, select.createdAts);
    select.statement.execute();
    std::map<std::int64_t, OrderRepository::Lookup> found;
    for (std::size_t r = 0; r < select.ids.size(); ++r) found.emplace(select.ids[r], rowAt(select, r));
    std::vector<OrderRepository::Lookup> lookups;
    for (const std::int64_t id : ids) {
      const auto it = found.find(id);
      lookups.push_back(it == found.end() ? OrderRepository::Lookup{} : it->second);
    }
    return lookups;
  }

 private:
  template <class Statement>
  Statement& prepared(std::map<std::size_t, std::unique_ptr<Statement>>& statements, std::size_t count) {
    auto& statement = statements[count];
    if (!statement) statement = std::make_unique<Statement>(session_, count);
    return *statement;
  }

  static OrderRepository::Lookup rowAt(const SelectStatement& select, std::size_t r) {
    const std::optional<svc::EpochMicros> createdAt = svc::parseTimestamp(select.createdAts[r]);
    if (!createdAt) {
      return {.order = std::nullopt,
              .error = "order " + std::to_string(select.ids[r]) + " has an unreadable created_at: " + select.createdAts[r]};
    }
    return {.order = Order{.id = select.ids[r],
                 .userId = select.userIds[r],
                 .productId = select.productIds[r],
                 .quantity = select.quantities[r],
                 .status = select.statuses[r],
                 .createdAt = *createdAt},
            .error = {}};
  }

  Poco::Data::Session& session_;
  std::map<std::size_t, std::unique_ptr<InsertStatement>> inserts_;
  std::map<std::size_t, std::unique_ptr<SelectStatement>> selects_;
};

}  // namespace

OrderRepository::OrderRepository(svc::Storage& storage, BatchLimits limits)
    : storage_(storage),
      inserts_([this](const std::vector<OrderRow>& rows) { return insertBatch(rows); },
               svc::BatchPolicy{limits.maxBatch, limits.concurrentWrites, true}),
      lookups_([this](const std::vector<std::int64_t>& ids) { return findBatch(ids); },
               svc::BatchPolicy{limits.maxBatch, limits.concurrentReads, true}) {}

std::int64_t OrderRepository::insert(const NewOrder& order, std::string_view status) {
  return inserts_.submit(OrderRow{order, std::string(status)});
}

std::optional<Order> OrderRepository::findById(std::int64_t id) {
  Lookup lookup = lookups_.submit(id);
  if (!lookup.error.empty()) throw std::runtime_error(lookup.error);
  return std::move(lookup.order);
}

std::vector<std::int64_t> OrderRepository::insertBatch(const std::vector<OrderRow>& rows) {
  return storage_.withSession([&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().insert(rows); });
}

std::vector<OrderRepository::Lookup> OrderRepository::findBatch(const std::vector<std::int64_t>& ids) {
  return storage_.withSession([&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().find(ids); });
}

}  // namespace orders
