#pragma once

#include <cstdint>

#include "models/order.h"
#include "repository/order_repository.h"
#include "svc/log.h"
#include "svc/metrics.h"

namespace orders {

/// The business rules of orders: what a valid order is and what happens when one is placed.
/// Takes and returns domain types and throws the domain errors of svc/errors.h (svc::Invalid,
/// svc::NotFound, svc::Unavailable and its kinds), so that any caller can use it, not only HTTP.
class OrderService {
 public:
  OrderService(OrderRepository& repository, const svc::Logger& logger, svc::Counter& ordersCreated)
      : repository_(repository), logger_(logger), ordersCreated_(ordersCreated) {}

  /// Stores a valid order (svc::Invalid otherwise) as "created" and returns its id.
  std::int64_t create(const NewOrder& order);
  /// The order, or svc::NotFound.
  Order get(std::int64_t id);
  /// One page of orders, newest first; svc::Invalid for a filter outside the rules.
  OrderPage list(OrderFilter filter);
  /// Cancels a "created" order; an already cancelled one is returned unchanged; svc::NotFound
  /// when there is no such order.
  Order cancel(std::int64_t id);
  /// Counts and logs an order that was just created (by any path).
  void recordCreated(std::int64_t id, const NewOrder& order);

 private:
  OrderRepository& repository_;
  const svc::Logger& logger_;
  svc::Counter& ordersCreated_;
};

}  // namespace orders
