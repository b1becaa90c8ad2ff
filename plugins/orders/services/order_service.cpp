#include "services/order_service.h"

#include "services/order_validation.h"

namespace orders {

std::int64_t OrderService::create(const svc::json::Value& body) {
  const NewOrder order = validateNewOrder(body);
  const std::int64_t id = repository_.insert(order, kStatusCreated);
  ordersCreated_.increment();
  logger_.info("Created new order", {{"order_id", id},
                                     {"user_id", order.userId},
                                     {"product_id", order.productId},
                                     {"quantity", order.quantity}});
  return id;
}

std::optional<Order> OrderService::find(std::int64_t id) { return repository_.findById(id); }

}  // namespace orders
