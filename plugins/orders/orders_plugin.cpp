// The orders route plugin: wires repository -> service -> routes on the host's storage.
#include <memory>

#include "repository/order_repository.h"
#include "routes/order_routes.h"
#include "services/order_service.h"
#include "svc/plugin_api.h"

namespace {

orders::BatchLimits batchLimits(const svc::PluginContext& context) {
  const auto setting = [&](const std::string& key, int fallback) {
    return static_cast<std::size_t>(context.intSetting(key, fallback, 1, 1024));
  };
  return orders::BatchLimits{.maxBatch = setting("max_batch", 64),
                             .concurrentWrites = setting("concurrent_writes", 4),
                             .concurrentReads = setting("concurrent_reads", 2)};
}

class OrdersPlugin final : public svc::RoutePlugin {
 public:
  explicit OrdersPlugin(const svc::PluginContext& context)
      : repository_(context.requireStorage(), batchLimits(context)),
        service_(repository_, context.logger,
                 context.metrics.counter("orders_created_total", "Orders stored by POST /orders.")) {}

  void registerRoutes(svc::RouteRegistry& routes) override {
    orders::registerOrderRoutes(routes, "/orders", service_);
    orders::registerOrderRoutes(routes, "/api/v1/orders", service_);
  }

 private:
  orders::OrderRepository repository_;
  orders::OrderService service_;
};

std::unique_ptr<svc::RoutePlugin> createOrdersPlugin(const svc::PluginContext& context) {
  return std::make_unique<OrdersPlugin>(context);
}

}  // namespace

SVC_ROUTE_PLUGIN(createOrdersPlugin)
