// The orders route plugin: wires repository -> service -> routes on the host's storage.
#include <memory>

#include "repository/order_repository.h"
#include "routes/order_routes.h"
#include "services/order_service.h"
#include "svc/plugin_api.h"

namespace {

orders::BatchLimits batchLimits(const Poco::Util::AbstractConfiguration& config) {
  const auto positive = [&](const std::string& key, int fallback) {
    const int value = config.getInt(key, fallback);
    if (value < 1 || value > 1000) throw std::invalid_argument("orders." + key + " must be from 1 to 1000");
    return static_cast<std::size_t>(value);
  };
  return orders::BatchLimits{.maxBatch = positive("max_batch", 64),
                             .concurrentWrites = positive("concurrent_writes", 4),
                             .concurrentReads = positive("concurrent_reads", 4)};
}

class OrdersPlugin final : public svc::RoutePlugin {
 public:
  explicit OrdersPlugin(const svc::PluginContext& context)
      : repository_(context.requireStorage(), batchLimits(context.config)), service_(repository_, context.logger) {}

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
