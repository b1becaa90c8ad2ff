#include "routes/order_routes.h"

#include <string>

#include "svc/json.h"

namespace orders {

namespace {

std::string orderJson(const Order& order) {
  return svc::json::ObjectWriter()
      .add("order_id", order.id)
      .add("user_id", order.userId)
      .add("product_id", order.productId)
      .add("quantity", order.quantity)
      .add("status", order.status)
      .add("created_at", svc::formatRfc3339Millis(order.createdAt))
      .str();
}

svc::Response createOrder(OrderService& service, const svc::Request& request) {
  const std::int64_t id = service.create(svc::parseJsonBody(request));
  const std::string body = svc::json::ObjectWriter().add("order_id", id).add("status", kStatusCreated).str();
  return svc::Response::json(201, body).withHeader("Location", request.path() + "/" + std::to_string(id));
}

svc::Response getOrder(OrderService& service, const svc::Request& request) {
  const std::int64_t id = svc::positiveIdParam(request, "id");
  const std::optional<Order> order = service.find(id);
  if (!order) throw svc::HttpError(404, "Order " + std::to_string(id) + " does not exist");
  return svc::Response::json(200, orderJson(*order));
}

}  // namespace

void registerOrderRoutes(svc::RouteRegistry& routes, std::string_view prefix, OrderService& service) {
  const std::string collection(prefix);
  routes.add("POST", collection, [&service](const svc::Request& request) { return createOrder(service, request); });
  routes.add("GET", collection + "/{id}",
             [&service](const svc::Request& request) { return getOrder(service, request); });
}

}  // namespace orders
