#pragma once

#include <cstdint>
#include <optional>

#include "models/order.h"
#include "repository/order_repository.h"
#include "svc/json.h"
#include "svc/log.h"
#include "svc/metrics.h"

namespace orders {

/// The business rules of orders: what a valid order is and what happens when one is placed.
class OrderService {
 public:
  OrderService(OrderRepository& repository, const svc::Logger& logger, svc::Counter& ordersCreated)
      : repository_(repository), logger_(logger), ordersCreated_(ordersCreated) {}

  /// Validates the request body (422 otherwise), stores the order as "created" and returns its id.
  std::int64_t create(const svc::json::Value& body);
  std::optional<Order> find(std::int64_t id);

 private:
  OrderRepository& repository_;
  const svc::Logger& logger_;
  svc::Counter& ordersCreated_;
};

}  // namespace orders
