#pragma once

#include <cstdint>
#include <optional>

#include "models/order.h"
#include "repository/order_repository.h"
#include "services/order_validation.h"
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
  /// One page of orders, newest first; svc::HttpError 400 for invalid parameters.
  OrderPage list(const ListParameters& parameters);
  /// Cancels a "created" order; an already cancelled one is returned unchanged. Empty when
  /// there is no such order.
  std::optional<Order> cancel(std::int64_t id);
  /// Counts and logs an order that was just created (by any path).
  void recordCreated(std::int64_t id, const NewOrder& order);

 private:
  OrderRepository& repository_;
  const svc::Logger& logger_;
  svc::Counter& ordersCreated_;
};

}  // namespace orders
