#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "svc/timestamp.h"

namespace orders {

inline constexpr std::string_view kStatusCreated = "created";
inline constexpr std::string_view kStatusCancelled = "cancelled";

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
  /// Random, written with the row: finds it when the INSERT's outcome was not seen.
  std::int64_t requestToken = 0;
};

/// An order as stored.
struct Order {
  std::int64_t id = 0;
  std::int32_t userId = 0;
  std::int32_t productId = 0;
  std::int32_t quantity = 0;
  std::string status;
  svc::EpochMicros createdAt = 0;
  svc::EpochMicros updatedAt = 0;  ///< createdAt while the order never changed
};

/// Which orders a listing wants: newest first, optionally of one user or status, older than
/// `beforeId` (the keyset cursor), at most `limit` of them.
struct OrderFilter {
  std::optional<std::int32_t> userId;
  std::optional<std::string> status;
  std::optional<std::int64_t> beforeId;
  std::int64_t limit = 20;
};

/// One page of a listing; `nextBeforeId` is set when older orders may follow.
struct OrderPage {
  std::vector<Order> orders;
  std::optional<std::int64_t> nextBeforeId;
};

}  // namespace orders
