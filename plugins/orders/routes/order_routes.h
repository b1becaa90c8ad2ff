#pragma once

#include <string_view>

#include "services/order_service.h"
#include "svc/routes.h"

namespace orders {

/// POST {prefix} and GET {prefix}/{id}.
void registerOrderRoutes(svc::RouteRegistry& routes, std::string_view prefix, OrderService& service);

}  // namespace orders
