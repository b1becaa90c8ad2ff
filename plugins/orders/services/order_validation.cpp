#include "services/order_validation.h"

#include <charconv>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "services/list_cursor.h"
#include "svc/http.h"

namespace orders {

namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int32_t>::max();

std::string_view kindName(svc::json::Kind kind) {
  switch (kind) {
    case svc::json::Kind::Null: return "null";
    case svc::json::Kind::Bool: return "a boolean";
    case svc::json::Kind::Number: return "a number";
    case svc::json::Kind::String: return "a string";
    case svc::json::Kind::Array: return "an array";
    case svc::json::Kind::Object: return "an object";
  }
  return "a value";
}

/// A required positive INTEGER member; records the reason in `errors` when it is not one.
std::optional<std::int32_t> positiveInteger(const svc::json::Value& body, std::string_view name,
                                            std::vector<svc::FieldError>& errors) {
  const std::string pointer = "/" + std::string(name);
  const svc::json::Value* value = body.find(name);
  const auto reject = [&](std::string detail) {
    errors.push_back(svc::FieldError{pointer, std::string(name) + " " + std::move(detail)});
    return std::nullopt;
  };
  if (value == nullptr) return reject("is required");
  if (value->kind() != svc::json::Kind::Number) {
    return reject("must be an integer, not " + std::string(kindName(value->kind())));
  }
  if (!value->isIntegerLiteral()) return reject("must be an integer, not " + value->text());
  const std::optional<std::int64_t> number = value->asInt64();
  if (!number || *number < 1 || *number > kMaxId) {
    return reject("must be between 1 and " + std::to_string(kMaxId) + ", not " + value->text());
  }
  return static_cast<std::int32_t>(*number);
}

[[noreturn]] void rejectFields(int status, std::string title, std::vector<svc::FieldError> errors) {
  std::string detail;
  for (const svc::FieldError& error : errors) detail += (detail.empty() ? "" : "; ") + error.detail;
  throw svc::HttpError(svc::Problem{.status = status,
                                    .type = std::string(svc::kValidationProblemType),
                                    .title = std::move(title),
                                    .detail = detail,
                                    .errors = std::move(errors)});
}

[[noreturn]] void rejectOrder(std::vector<svc::FieldError> errors) {
  rejectFields(422, "The order is invalid", std::move(errors));
}

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

bool isKnownStatus(const std::string& status) { return status == kStatusCreated || status == kStatusCancelled; }

}  // namespace

void validateIdempotencyKey(const std::string& key) {
  const bool visibleAscii = !key.empty() && key.size() <= kMaxKeyLength &&
                            std::all_of(key.begin(), key.end(), [](char c) { return c >= '!' && c <= '~'; });
  if (!visibleAscii) {
    throw svc::HttpError(400, "The Idempotency-Key header must be 1 to " + std::to_string(kMaxKeyLength) +
                                  " visible ASCII characters (no spaces or control characters)");
  }
}

OrderFilter validateListParameters(const ListParameters& parameters) {
  std::vector<svc::FieldError> errors;
  OrderFilter filter;
  const auto reject = [&](std::string_view name, const std::string& value, std::string_view expected) {
    errors.push_back(svc::FieldError{"/" + std::string(name),
                                     std::string(name) + " must be " + std::string(expected) + ", not \"" + value + "\""});
  };
  if (parameters.userId) {
    const auto userId = integerInRange(*parameters.userId, 1, kMaxId);
    if (userId) filter.userId = static_cast<std::int32_t>(*userId);
    else reject("user_id", *parameters.userId, "an integer from 1 to " + std::to_string(kMaxId));
  }
  if (parameters.status) {
    if (isKnownStatus(*parameters.status)) filter.status = *parameters.status;
    else reject("status", *parameters.status, "created or cancelled");
  }
  if (parameters.limit) {
    const auto limit = integerInRange(*parameters.limit, 1, kMaxListLimit);
    if (limit) filter.limit = *limit;
    else reject("limit", *parameters.limit, "an integer from 1 to " + std::to_string(kMaxListLimit));
  } else {
    filter.limit = kDefaultListLimit;
  }
  if (parameters.cursor) {
    filter.beforeId = decodeListCursor(*parameters.cursor);
    if (!filter.beforeId) reject("cursor", *parameters.cursor, "a next_cursor this service returned");
  }
  if (!errors.empty()) rejectFields(400, "The query is invalid", std::move(errors));
  return filter;
}

NewOrder validateNewOrder(const svc::json::Value& body) {
  std::vector<svc::FieldError> errors;
  if (!body.isObject()) {
    errors.push_back(svc::FieldError{"", "the body must be a JSON object, not " + std::string(kindName(body.kind()))});
    rejectOrder(std::move(errors));
  }
  const auto userId = positiveInteger(body, "user_id", errors);
  const auto productId = positiveInteger(body, "product_id", errors);
  const auto quantity = positiveInteger(body, "quantity", errors);
  if (!errors.empty()) rejectOrder(std::move(errors));
  return NewOrder{.userId = *userId, .productId = *productId, .quantity = *quantity};
}

}  // namespace orders
