#include "routes/order_routes.h"

#include <string>

#include "services/list_cursor.h"
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
      .add("updated_at", svc::formatRfc3339Millis(order.updatedAt))
      .str();
}

std::string pageJson(const OrderPage& page) {
  std::string orders = "[";
  for (const Order& order : page.orders) orders += (orders.size() > 1 ? "," : "") + orderJson(order);
  orders += ']';
  std::string nextCursor = "null";
  if (page.nextBeforeId) {
    nextCursor.clear();
    svc::json::appendQuoted(nextCursor, encodeListCursor(*page.nextBeforeId));
  }
  return svc::json::ObjectWriter().addRaw("orders", orders).addRaw("next_cursor", nextCursor).str();
}

StoredResponse createdResponse(const svc::Request& request, std::int64_t id) {
  return StoredResponse{.status = 201,
                        .body = svc::json::ObjectWriter().add("order_id", id).add("status", kStatusCreated).str(),
                        .location = request.path() + "/" + std::to_string(id)};
}

svc::Response toHttp(const StoredResponse& stored) {
  svc::Response response = svc::Response::json(stored.status, stored.body);
  response.withHeader("Location", stored.location);
  return response;
}

svc::Response createOrder(OrderRoutes& routes, const svc::Request& request) {
  const svc::json::Value body = svc::parseJsonBody(request);
  const std::optional<std::string> key = request.header("Idempotency-Key");
  if (!key) return toHttp(createdResponse(request, routes.service.create(body)));
  const IdempotentOutcome outcome = routes.idempotent.create(
      body, *key, [&request](std::int64_t id) { return createdResponse(request, id); });
  svc::Response response = toHttp(outcome.response);
  if (outcome.replayed) response.withHeader("Idempotent-Replayed", "true");
  return response;
}

Order existingOrder(const std::optional<Order>& order, std::int64_t id) {
  if (!order) throw svc::HttpError(404, "Order " + std::to_string(id) + " does not exist");
  return *order;
}

svc::Response getOrder(OrderRoutes& routes, const svc::Request& request) {
  const std::int64_t id = svc::positiveIdParam(request, "id");
  return svc::Response::json(200, orderJson(existingOrder(routes.service.find(id), id)));
}

svc::Response listOrders(OrderRoutes& routes, const svc::Request& request) {
  const ListParameters parameters{.userId = request.queryParam("user_id"),
                                  .status = request.queryParam("status"),
                                  .limit = request.queryParam("limit"),
                                  .cursor = request.queryParam("cursor")};
  return svc::Response::json(200, pageJson(routes.service.list(parameters)));
}

svc::Response cancelOrder(OrderRoutes& routes, const svc::Request& request) {
  const std::int64_t id = svc::positiveIdParam(request, "id");
  return svc::Response::json(200, orderJson(existingOrder(routes.service.cancel(id), id)));
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
