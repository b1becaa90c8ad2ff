#include "routes/order_representation.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "routes/list_cursor.h"
#include "services/order_validation.h"
#include "svc/http.h"
#include "svc/timestamp.h"

namespace orders {

namespace {

constexpr std::size_t kMaxKeyLength = 255;

/// A decimal integer from `min` to `max` written with digits only, or nothing.
std::optional<std::int64_t> integerInRange(const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool digitsOnly = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digitsOnly || error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

OrderDraft readOrderDraft(const svc::json::Value& body) {
  svc::json::ObjectReader reader(body);
  const auto number = [&reader](std::string_view name) -> std::optional<WrittenNumber> {
    std::optional<std::string> text = reader.integerLiteral(name);
    if (!text) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    const bool fits = error == std::errc() && end == text->data() + text->size();
    return WrittenNumber{.text = std::move(*text), .value = fits ? std::optional<std::int64_t>(value) : std::nullopt};
  };
  OrderDraft draft{.userId = number("user_id"), .productId = number("product_id"), .quantity = number("quantity"),
                   .unreadable = {}};
  draft.unreadable = reader.errors();
  return draft;
}

void validateIdempotencyKey(const std::string& key) {
  const bool visibleAscii = !key.empty() && key.size() <= kMaxKeyLength &&
                            std::all_of(key.begin(), key.end(), [](char c) { return c >= '!' && c <= '~'; });
  if (!visibleAscii) {
    throw svc::HttpError(400, "The Idempotency-Key header must be 1 to " + std::to_string(kMaxKeyLength) +
                                  " visible ASCII characters (no spaces or control characters)");
  }
}

OrderFilter readListParameters(const ListParameters& parameters) {
  std::vector<svc::FieldError> errors;
  OrderFilter filter{.limit = kDefaultListLimit};
  const auto reject = [&](std::string_view name, const std::string& value, std::string_view expected) {
    errors.push_back(svc::FieldError{"/" + std::string(name),
                                     std::string(name) + " must be " + std::string(expected) + ", not \"" + value + "\""});
  };
  if (parameters.userId) {
    const auto userId = integerInRange(*parameters.userId, kMinOrderNumber, kMaxOrderNumber);
    if (userId) filter.userId = static_cast<std::int32_t>(*userId);
    else reject("user_id", *parameters.userId, "an integer from 1 to " + std::to_string(kMaxOrderNumber));
  }
  if (parameters.status) {
    if (isKnownStatus(*parameters.status)) filter.status = *parameters.status;
    else reject("status", *parameters.status, "created or cancelled");
  }
  if (parameters.limit) {
    const auto limit = integerInRange(*parameters.limit, 1, kMaxListLimit);
    if (limit) filter.limit = *limit;
    else reject("limit", *parameters.limit, "an integer from 1 to " + std::to_string(kMaxListLimit));
  }
  if (parameters.cursor) {
    filter.beforeId = decodeListCursor(*parameters.cursor);
    if (!filter.beforeId) reject("cursor", *parameters.cursor, "a next_cursor this service returned");
  }
  if (!errors.empty()) throw svc::HttpError(svc::validationProblem(400, "The query is invalid", std::move(errors)));
  return filter;
}

namespace {

svc::json::ObjectWriter orderObject(const Order& order) {
  svc::json::ObjectWriter object;
  object.add("order_id", order.id)
      .add("user_id", order.userId)
      .add("product_id", order.productId)
      .add("quantity", order.quantity)
      .add("status", order.status)
      .add("created_at", svc::formatRfc3339Millis(order.createdAt))
      .add("updated_at", svc::formatRfc3339Millis(order.updatedAt));
  return object;
}

}  // namespace

std::string orderJson(const Order& order) { return orderObject(order).str(); }

std::string pageJson(const OrderPage& page) {
  svc::json::ArrayWriter orders;
  for (const Order& order : page.orders) orders.add(orderObject(order));
  std::optional<std::string> nextCursor;
  if (page.nextBeforeId) nextCursor = encodeListCursor(*page.nextBeforeId);
  return svc::json::ObjectWriter().add("orders", orders).add("next_cursor", nextCursor).str();
}

std::string createdJson(std::int64_t id) {
  return svc::json::ObjectWriter().add("order_id", id).add("status", kStatusCreated).str();
}

}  // namespace orders
