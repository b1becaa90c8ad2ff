#include "services/order_validation.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "svc/errors.h"

namespace orders {

namespace {

void checkRange(std::vector<svc::FieldError>& errors, std::string_view name, std::int64_t value, std::int64_t min,
                std::int64_t max) {
  if (value >= min && value <= max) return;
  errors.push_back(svc::FieldError{"/" + std::string(name), std::string(name) + " must be between " +
                                                                 std::to_string(min) + " and " + std::to_string(max) +
                                                                 ", not " + std::to_string(value)});
}

// A written number checked like checkRange, in the client's own digits (it may not fit 64 bits).
std::int32_t orderNumber(std::vector<svc::FieldError>& errors, std::string_view name,
                         const std::optional<WrittenNumber>& number) {
  if (!number) return 0;  // unreadable: the draft says why
  if (number->value && *number->value >= kMinOrderNumber && *number->value <= kMaxOrderNumber) {
    return static_cast<std::int32_t>(*number->value);
  }
  errors.push_back(svc::FieldError{"/" + std::string(name), std::string(name) + " must be between " +
                                                                 std::to_string(kMinOrderNumber) + " and " +
                                                                 std::to_string(kMaxOrderNumber) + ", not " +
                                                                 number->text});
  return 0;
}

// The errors in the order of the fields, the body's own first, so that one answer reads in order.
void sortByField(std::vector<svc::FieldError>& errors) {
  static constexpr std::string_view kFields[] = {"", "/user_id", "/product_id", "/quantity"};
  const auto rank = [](const svc::FieldError& error) {
    return std::find(std::begin(kFields), std::end(kFields), error.pointer) - std::begin(kFields);
  };
  std::stable_sort(errors.begin(), errors.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

}  // namespace

NewOrder validateNewOrder(const OrderDraft& draft) {
  std::vector<svc::FieldError> errors = draft.unreadable;
  const NewOrder order{.userId = orderNumber(errors, "user_id", draft.userId),
                       .productId = orderNumber(errors, "product_id", draft.productId),
                       .quantity = orderNumber(errors, "quantity", draft.quantity)};
  if (errors.empty()) return order;
  sortByField(errors);
  throw svc::Invalid("The order is invalid", std::move(errors));
}

bool isKnownStatus(std::string_view status) { return status == kStatusCreated || status == kStatusCancelled; }

void validateOrderFilter(const OrderFilter& filter) {
  std::vector<svc::FieldError> errors;
  if (filter.userId) checkRange(errors, "user_id", *filter.userId, kMinOrderNumber, kMaxOrderNumber);
  if (filter.status && !isKnownStatus(*filter.status)) {
    errors.push_back(svc::FieldError{"/status", "status must be created or cancelled, not \"" + *filter.status + "\""});
  }
  checkRange(errors, "limit", filter.limit, 1, kMaxListLimit);
  if (filter.beforeId) checkRange(errors, "before_id", *filter.beforeId, 1, std::numeric_limits<std::int64_t>::max());
  if (!errors.empty()) throw svc::Invalid("The listing is invalid", std::move(errors));
}

}  // namespace orders
