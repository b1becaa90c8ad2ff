#include "routes/order_routes.h"

#include <string>

#include "routes/order_representation.h"

namespace orders {

namespace {

// 201 with the order's Location under `collection`: the request's path, or for a replay the path
// of the key's first request (a retry through /api/v1/orders replays /orders/N).
svc::Response created(const std::string& collection, std::int64_t id) {
  svc::Response response = svc::Response::json(201, createdJson(id));
  response.withHeader("Location", collection + "/" + std::to_string(id));
  return response;
}

svc::Response createOrder(OrderRoutes& routes, const svc::Request& request) {
  const NewOrder order = readNewOrder(svc::parseJsonBody(request));
  const std::optional<std::string> key = request.header("Idempotency-Key");
  if (!key) return created(request.path(), routes.service.create(order));
  validateIdempotencyKey(*key);
  const IdempotentOutcome outcome = routes.idempotent.create(order, *key, request.path());
  const std::string& collection = outcome.order.createdVia.empty() ? request.path() : outcome.order.createdVia;
  svc::Response response = created(collection, outcome.order.orderId);
  if (outcome.replayed) response.withHeader("Idempotent-Replayed", "true");
  return response;
}

svc::Response getOrder(OrderRoutes& routes, const svc::Request& request) {
  return svc::Response::json(200, orderJson(routes.service.get(svc::positiveIdParam(request, "id"))));
}

svc::Response listOrders(OrderRoutes& routes, const svc::Request& request) {
  const ListParameters parameters{.userId = request.queryParam("user_id"),
                                  .status = request.queryParam("status"),
                                  .limit = request.queryParam("limit"),
                                  .cursor = request.queryParam("cursor")};
  return svc::Response::json(200, pageJson(routes.service.list(readListParameters(parameters))));
}

svc::Response cancelOrder(OrderRoutes& routes, const svc::Request& request) {
  return svc::Response::json(200, orderJson(routes.service.cancel(svc::positiveIdParam(request, "id"))));
}

}  // namespace

void registerOrderRoutes(svc::RouteRegistry& registry, std::string_view prefix, OrderRoutes& routes) {
  const std::string collection(prefix);
  const auto handle = [&routes](svc::Response (*handler)(OrderRoutes&, const svc::Request&)) {
    return [&routes, handler](const svc::Request& request) { return handler(routes, request); };
  };
  registry.add("POST", collection, handle(createOrder));
  registry.add("GET", collection, handle(listOrders));
  registry.add("GET", collection + "/{id}", handle(getOrder));
  registry.add("POST", collection + "/{id}/cancel", handle(cancelOrder));
}

}  // namespace orders
