#include "services/order_service.h"

#include "services/order_validation.h"
#include "svc/errors.h"

namespace orders {

namespace {

Order existing(std::optional<Order> order, std::int64_t id) {
  if (!order) throw svc::NotFound("Order " + std::to_string(id) + " does not exist");
  return std::move(*order);
}

}  // namespace

void OrderService::get(std::int64_t id, svc::Completion<Order> done) {
  repository_.findById(id, [id, done = std::move(done)](svc::Result<std::optional<Order>> found) {
    done.complete([&] { return existing(std::move(found.value()), id); });
  });
}

OrderPage OrderService::list(OrderFilter filter) {
  validateOrderFilter(filter);
  const std::int64_t pageSize = filter.limit;
  ++filter.limit;  // one more row tells whether a next page exists
  OrderPage page{.orders = repository_.list(filter), .nextBeforeId = std::nullopt};
  if (static_cast<std::int64_t>(page.orders.size()) > pageSize) {
    page.orders.resize(static_cast<std::size_t>(pageSize));
    page.nextBeforeId = page.orders.back().id;
  }
  return page;
}

Order OrderService::cancel(std::int64_t id) {
  const OrderRepository::Cancellation cancellation = repository_.cancel(id, svc::nowEpochMicros());
  if (cancellation.changed) logger_.info("Cancelled order", {{"order_id", id}});
  return existing(cancellation.order, id);
}

}  // namespace orders
