#pragma once

#include <cstdint>

#include "models/order.h"
#include "repository/order_repository.h"
#include "svc/async.h"
#include "svc/log.h"

namespace orders {

/// Reading and cancelling orders. Takes and returns domain types and throws (or completes with)
/// the domain errors of svc/errors.h, so that any caller can use it, not only HTTP.
class OrderService {
 public:
  OrderService(OrderRepository& repository, const svc::Logger& logger) : repository_(repository), logger_(logger) {}

  /// Completes with the order, or svc::NotFound.
  void get(std::int64_t id, svc::Completion<Order> done);
  /// One page of orders, newest first; svc::Invalid for a filter outside the rules.
  OrderPage list(OrderFilter filter);
  /// Cancels a "created" order; an already cancelled one is returned unchanged; svc::NotFound
  /// when there is no such order.
  Order cancel(std::int64_t id);

 private:
  OrderRepository& repository_;
  const svc::Logger& logger_;
};

}  // namespace orders
