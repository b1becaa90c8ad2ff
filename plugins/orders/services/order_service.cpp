#include "services/order_service.h"

#include "services/order_validation.h"

namespace orders {

std::int64_t OrderService::create(const svc::json::Value& body) {
  const NewOrder order = validateNewOrder(body);
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

std::optional<Order> OrderService::find(std::int64_t id) { return repository_.findById(id); }

OrderPage OrderService::list(const ListParameters& parameters) {
  OrderFilter filter = validateListParameters(parameters);
  const std::int64_t pageSize = filter.limit;
  ++filter.limit;  // one more row tells whether a next page exists
  OrderPage page{.orders = repository_.list(filter), .nextBeforeId = std::nullopt};
  if (static_cast<std::int64_t>(page.orders.size()) > pageSize) {
    page.orders.resize(static_cast<std::size_t>(pageSize));
    page.nextBeforeId = page.orders.back().id;
  }
  return page;
}

std::optional<Order> OrderService::cancel(std::int64_t id) {
  if (repository_.cancel(id, svc::nowEpochMicros())) logger_.info("Cancelled order", {{"order_id", id}});
  return repository_.findById(id);
}

}  // namespace orders
