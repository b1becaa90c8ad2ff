#pragma once

#include <string_view>

#include "services/create_order.h"
#include "services/order_service.h"
#include "svc/routes.h"

namespace orders {

/// The services the routes call.
struct OrderRoutes {
  OrderService& orders;
  CreateOrder& create;
};

/// POST {prefix} (with an optional Idempotency-Key), GET {prefix} (a page of orders),
/// GET {prefix}/{id} and POST {prefix}/{id}/cancel.
void registerOrderRoutes(svc::RouteRegistry& registry, std::string_view prefix, OrderRoutes& routes);

}  // namespace orders
