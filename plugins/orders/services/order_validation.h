#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "models/order.h"

namespace orders {

/// user_id, product_id and quantity: from 1 to the largest value of the INTEGER columns.
inline constexpr std::int32_t kMinOrderNumber = 1;
inline constexpr std::int32_t kMaxOrderNumber = std::numeric_limits<std::int32_t>::max();

inline constexpr std::int64_t kDefaultListLimit = 20;
inline constexpr std::int64_t kMaxListLimit = 100;

/// The order `draft` asks for when every field is from kMinOrderNumber to kMaxOrderNumber;
/// otherwise svc::Invalid naming each field that is not.
NewOrder validateNewOrder(const OrderDraft& draft);

/// "created" or "cancelled".
bool isKnownStatus(std::string_view status);

/// Returns when `filter` asks for a listing the service gives: limit from 1 to kMaxListLimit, a
/// known status, a user_id and a cursor id of at least 1; otherwise throws svc::Invalid.
void validateOrderFilter(const OrderFilter& filter);

}  // namespace orders
