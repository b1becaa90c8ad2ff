#pragma once

#include "models/order.h"
#include "svc/json.h"

namespace orders {

/// The order in a POST /orders body, or svc::HttpError 422 listing every invalid field:
/// user_id, product_id and quantity are required integers from 1 to 2147483647.
/// Other members are ignored.
NewOrder validateNewOrder(const svc::json::Value& body);

}  // namespace orders
