#include "services/order_validation.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

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

[[noreturn]] void rejectOrder(std::vector<svc::FieldError> errors) {
  std::string detail;
  for (const svc::FieldError& error : errors) detail += (detail.empty() ? "" : "; ") + error.detail;
  throw svc::HttpError(svc::Problem{.status = 422,
                                    .type = std::string(svc::kValidationProblemType),
                                    .title = "The order is invalid",
                                    .detail = detail,
                                    .errors = std::move(errors)});
}

}  // namespace

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
