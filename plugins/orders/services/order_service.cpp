#include "services/order_service.h"

#include "services/order_validation.h"
#include "svc/errors.h"

namespace orders {

namespace {

Order existing(const std::optional<Order>& order, std::int64_t id) {
  if (!order) throw svc::NotFound("Order " + std::to_string(id) + " does not exist");
  return *order;
}

}  // namespace

std::int64_t OrderService::create(const NewOrder& order) {
  validateNewOrder(order);
  const std::int64_t id = repository_.insert(order, kStatusCreated);
  recordCreated(id, order);
  return id;
}

void OrderService::recordCreated(std::int64_t id, const NewOrder& order) {
  ordersCreated_.increment();
  logger_.info("Created new order", {{"order_id", id},
                                     {"user_id", order.userId},
                                     {"product_id", order.productId},
                                     {"quantity", order.quantity}});
}

Order OrderService::get(std::int64_t id) { return existing(repository_.findById(id), id); }

OrderPage OrderService::list(OrderFilter filter) {
  validateOrderFilter(filter);
  const std::int64_t pageSize = filter.limit;
  ++filter.limit;  // one more row tells whether a next page exists
  OrderPage page{.orders = repository_.list(filter), .nextBeforeId = std::nullopt};
  if (static_cast<std::int64_t>(page.orders.size()) > pageSize) {
    page.orders.resize(static_cast<std::size_t>(pageSize));
    page.nextBeforeId = page.orders.back().id;
  }
  return page;
}

Order OrderService::cancel(std::int64_t id) {
  if (repository_.cancel(id, svc::nowEpochMicros())) logger_.info("Cancelled order", {{"order_id", id}});
  return existing(repository_.findById(id), id);
}

}  // namespace orders
