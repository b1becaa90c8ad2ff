#pragma once

#include <optional>
#include <string>

#include "models/order.h"
#include "svc/json.h"

namespace orders {

/// The order in a POST /orders body, or svc::HttpError 422 listing every invalid field:
/// user_id, product_id and quantity are required integers from 1 to 2147483647.
/// Other members are ignored.
NewOrder validateNewOrder(const svc::json::Value& body);

/// The Idempotency-Key header: 1 to 255 visible ASCII characters, else svc::HttpError 400.
void validateIdempotencyKey(const std::string& key);

/// The query parameters of GET /orders as sent (each absent or its decoded text).
struct ListParameters {
  std::optional<std::string> userId;
  std::optional<std::string> status;
  std::optional<std::string> limit;
  std::optional<std::string> cursor;
};

inline constexpr std::int64_t kDefaultListLimit = 20;
inline constexpr std::int64_t kMaxListLimit = 100;

/// The listing the parameters ask for, or svc::HttpError 400 naming every invalid one: user_id
/// 1..2147483647, status "created" or "cancelled", limit 1..100 (default 20), cursor one that
/// the service issued.
OrderFilter validateListParameters(const ListParameters& parameters);

}  // namespace orders
