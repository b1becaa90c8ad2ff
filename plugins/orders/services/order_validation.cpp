#include "services/order_validation.h"

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

}  // namespace

void validateNewOrder(const NewOrder& order) {
  std::vector<svc::FieldError> errors;
  checkRange(errors, "user_id", order.userId, kMinOrderNumber, kMaxOrderNumber);
  checkRange(errors, "product_id", order.productId, kMinOrderNumber, kMaxOrderNumber);
  checkRange(errors, "quantity", order.quantity, kMinOrderNumber, kMaxOrderNumber);
  if (!errors.empty()) throw svc::Invalid("The order is invalid", std::move(errors));
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
