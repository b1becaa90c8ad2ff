#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "svc/errors.h"
#include "svc/timestamp.h"

namespace orders {

inline constexpr std::string_view kStatusCreated = "created";
inline constexpr std::string_view kStatusCancelled = "cancelled";

/// A number as the client wrote it: its text, and its value when it fits 64 bits.
struct WrittenNumber {
  std::string text;
  std::optional<std::int64_t> value;
};

/// An order as the client asked for it, before the rules are checked (validateNewOrder). A field
/// is nothing when it is missing or not an integer; `unreadable` then says why.
struct OrderDraft {
  std::optional<WrittenNumber> userId;
  std::optional<WrittenNumber> productId;
  std::optional<WrittenNumber> quantity;
  std::vector<svc::FieldError> unreadable;
};

/// An order that follows the rules, to be stored.
struct NewOrder {
  std::int32_t userId = 0;
  std::int32_t productId = 0;
  std::int32_t quantity = 0;
};

/// A row to insert into the orders table.
struct OrderRow {
  NewOrder order;
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

/// What creating an order came to: its id, and whether an earlier request with the same
/// Idempotency-Key created it (a replay).
struct CreatedOrder {
  std::int64_t id = 0;
  bool replayed = false;
};

}  // namespace orders
