#pragma once

#include <cstdint>
#include <optional>

#include "models/order.h"
#include "svc/storage.h"

namespace orders {

/// The orders table. The only place that knows SQL; the same statements run on every backend.
class OrderRepository {
 public:
  explicit OrderRepository(svc::Storage& storage) : storage_(storage) {}

  /// Inserts the order with `status` and returns its id.
  std::int64_t insert(const NewOrder& order, std::string_view status);
  std::optional<Order> findById(std::int64_t id);

 private:
  svc::Storage& storage_;
};

}  // namespace orders
