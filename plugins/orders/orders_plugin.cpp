// The orders route plugin: wires repository -> service -> routes on the host's storage.
#include <chrono>
#include <memory>

#include "repository/idempotency_repository.h"
#include "repository/order_repository.h"
#include "routes/order_routes.h"
#include "services/idempotent_creation.h"
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

std::chrono::seconds idempotencyKeyLifetime(const svc::PluginContext& context) {
  constexpr int kOneDay = 86400;
  constexpr int kOneYear = 365 * kOneDay;
  return std::chrono::seconds(context.intSetting("idempotency_key_ttl_seconds", kOneDay, 1, kOneYear));
}

class OrdersPlugin final : public svc::RoutePlugin {
 public:
  explicit OrdersPlugin(const svc::PluginContext& context)
      : repository_(context.requireStorage(), batchLimits(context)),
        keys_(context.requireStorage()),
        service_(repository_, context.logger,
                 context.metrics.counter("orders_created_total", "Orders stored by POST /orders.")),
        idempotent_(keys_, service_, context.logger, idempotencyKeyLifetime(context)) {}

  void registerRoutes(svc::RouteRegistry& routes) override {
    orders::registerOrderRoutes(routes, "/orders", routes_);
    orders::registerOrderRoutes(routes, "/api/v1/orders", routes_);
  }

 private:
  orders::OrderRepository repository_;
  orders::IdempotencyRepository keys_;
  orders::OrderService service_;
  orders::IdempotentCreation idempotent_;
  orders::OrderRoutes routes_{service_, idempotent_};
};

std::unique_ptr<svc::RoutePlugin> createOrdersPlugin(const svc::PluginContext& context) {
  return std::make_unique<OrdersPlugin>(context);
}

}  // namespace

SVC_ROUTE_PLUGIN(createOrdersPlugin)
