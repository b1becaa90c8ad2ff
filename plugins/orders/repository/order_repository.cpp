#include "repository/order_repository.h"

#include <stdexcept>
#include <string>

#include <Poco/Data/Statement.h>

using namespace Poco::Data::Keywords;

namespace orders {

namespace {

/// The statements of one connection, prepared once and re-executed with new values: the
/// variables they are bound to are members, so each call sets them and executes.
class OrderStatements {
 public:
  explicit OrderStatements(Poco::Data::Session& session) : insert_(session), select_(session) {
    insert_ << "INSERT INTO orders (user_id, product_id, quantity, status) VALUES ($1, $2, $3, $4) RETURNING id",
        use(newOrder_.userId), use(newOrder_.productId), use(newOrder_.quantity), use(newStatus_), into(newId_);
    select_ << "SELECT id, user_id, product_id, quantity, status, created_at FROM orders WHERE id = $1",
        use(wantedId_), into(found_.id), into(found_.userId), into(found_.productId), into(found_.quantity),
        into(found_.status), into(foundCreatedAt_);
  }

  std::int64_t insert(const NewOrder& order, std::string_view status) {
    newOrder_ = order;
    newStatus_ = status;
    if (insert_.execute() != 1) throw std::runtime_error("INSERT INTO orders returned no id");
    return newId_;
  }

  std::optional<Order> find(std::int64_t id) {
    wantedId_ = id;
    if (select_.execute() == 0) return std::nullopt;
    const std::optional<svc::EpochMicros> createdAt = svc::parseTimestamp(foundCreatedAt_);
    if (!createdAt) throw std::runtime_error("order " + std::to_string(id) + " has an unreadable created_at");
    Order order = found_;
    order.createdAt = *createdAt;
    return order;
  }

 private:
  NewOrder newOrder_;
  std::string newStatus_;
  Poco::Int64 newId_ = 0;
  Poco::Data::Statement insert_;

  Poco::Int64 wantedId_ = 0;
  Order found_;
  std::string foundCreatedAt_;
  Poco::Data::Statement select_;
};

}  // namespace

std::int64_t OrderRepository::insert(const NewOrder& order, std::string_view status) {
  return storage_.withSession([&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().insert(order, status); });
}

std::optional<Order> OrderRepository::findById(std::int64_t id) {
  return storage_.withSession([&](svc::SessionLease& lease) { return lease.prepared<OrderStatements>().find(id); });
}

}  // namespace orders
