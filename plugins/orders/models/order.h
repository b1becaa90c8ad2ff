#pragma once

#include <cstdint>
#include <string>

#include "svc/timestamp.h"

namespace orders {

inline constexpr std::string_view kStatusCreated = "created";

/// An order as the client asks for it, once validated.
struct NewOrder {
  std::int32_t userId = 0;
  std::int32_t productId = 0;
  std::int32_t quantity = 0;
};

/// A row to insert into the orders table.
struct OrderRow {
  NewOrder order;
  std::string status;
};

/// An order as stored.
struct Order {
  std::int64_t id = 0;
  std::int32_t userId = 0;
  std::int32_t productId = 0;
  std::int32_t quantity = 0;
  std::string status;
  svc::EpochMicros createdAt = 0;
};

}  // namespace orders
