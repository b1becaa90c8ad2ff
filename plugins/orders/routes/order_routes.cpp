#include "routes/order_routes.h"

#include <string>

#include "routes/order_representation.h"

namespace orders {

namespace {

// 201 with the order's Location under the collection the request was sent to (a replay too).
void createOrder(OrderRoutes& routes, const svc::Request& request, svc::Reply reply) {
  const OrderDraft draft = readOrderDraft(svc::parseJsonBody(request));
  std::optional<std::string> key = request.header("Idempotency-Key");
  if (key) validateIdempotencyKey(*key);
  routes.create.create(draft, key, std::move(reply).then<CreatedOrder>([collection = request.path()](const CreatedOrder& order) {
    svc::Response response = svc::Response::json(201, createdJson(order.id));
    response.withHeader("Location", collection + "/" + std::to_string(order.id));
    if (order.replayed) response.withHeader("Idempotent-Replayed", "true");
    return response;
  }));
}

void getOrder(OrderRoutes& routes, const svc::Request& request, svc::Reply reply) {
  routes.orders.get(svc::positiveIdParam(request, "id"), std::move(reply).then<Order>([](const Order& order) {
    return svc::Response::json(200, orderJson(order));
  }));
}

svc::Response listOrders(OrderRoutes& routes, const svc::Request& request) {
  const ListParameters parameters{.userId = request.queryParam("user_id"),
                                  .status = request.queryParam("status"),
                                  .limit = request.queryParam("limit"),
                                  .cursor = request.queryParam("cursor")};
  return svc::Response::json(200, pageJson(routes.orders.list(readListParameters(parameters))));
}

svc::Response cancelOrder(OrderRoutes& routes, const svc::Request& request) {
  return svc::Response::json(200, orderJson(routes.orders.cancel(svc::positiveIdParam(request, "id"))));
}

}  // namespace

void registerOrderRoutes(svc::RouteRegistry& registry, std::string_view prefix, OrderRoutes& routes) {
  const std::string collection(prefix);
  registry.addAsync("POST", collection,
                    [&routes](const svc::Request& request, svc::Reply reply) { createOrder(routes, request, std::move(reply)); });
  registry.add("GET", collection, [&routes](const svc::Request& request) { return listOrders(routes, request); });
  registry.addAsync("GET", collection + "/{id}",
                    [&routes](const svc::Request& request, svc::Reply reply) { getOrder(routes, request, std::move(reply)); });
  registry.add("POST", collection + "/{id}/cancel",
               [&routes](const svc::Request& request) { return cancelOrder(routes, request); });
}

}  // namespace orders
