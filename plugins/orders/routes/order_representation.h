#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/order.h"
#include "svc/json.h"

/// How orders look over HTTP: what the routes read from requests and write into responses.
namespace orders {

/// The order a POST /orders body asks for: user_id, product_id and quantity as written, or why
/// each cannot be read (missing, not an integer: the rules are validateNewOrder's). Other members
/// are ignored.
OrderDraft readOrderDraft(const svc::json::Value& body);

/// The Idempotency-Key header: 1 to 255 visible ASCII characters, else svc::HttpError 400.
void validateIdempotencyKey(const std::string& key);

/// The query parameters of GET /orders as sent (each absent or its decoded text).
struct ListParameters {
  std::optional<std::string> userId;
  std::optional<std::string> status;
  std::optional<std::string> limit;
  std::optional<std::string> cursor;
};

/// The listing the parameters ask for, or svc::HttpError 400 naming every invalid one: user_id
/// 1..2147483647, status "created" or "cancelled", limit 1..100 (default 20), cursor one that
/// the service issued.
OrderFilter readListParameters(const ListParameters& parameters);

std::string orderJson(const Order& order);
/// {"orders": [...], "next_cursor": "..." or null}
std::string pageJson(const OrderPage& page);
/// The body of 201 Created (and of its replays): {"order_id": id, "status": "created"}.
std::string createdJson(std::int64_t id);

}  // namespace orders
