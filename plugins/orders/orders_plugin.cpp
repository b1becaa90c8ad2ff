// The orders route plugin: wires repository -> services -> routes on the host's storage.
#include <chrono>
#include <memory>

#include "clients/users_client.h"
#include "repository/order_repository.h"
#include "routes/order_routes.h"
#include "services/create_order.h"
#include "services/order_service.h"
#include "svc/route_plugin.h"

namespace {

constexpr int kOneDay = 86400;

constexpr svc::Setting kSettings[] = {
    svc::Setting::integer("max_batch", "64", 1, 1024,
                          "Orders per coalesced INSERT or SELECT at most: concurrent requests share one statement"),
    svc::Setting::integer("concurrent_writes", "4", 1, 1024,
                          "Coalesced INSERTs running at once at most (SQLite has one writer: more only queue)"),
    svc::Setting::integer("concurrent_reads", "2", 1, 1024, "Coalesced SELECTs of orders by id running at once at most"),
    svc::Setting::integer("idempotency_key_ttl_seconds", "86400", 1, 365 * kOneDay,
                          "How long an Idempotency-Key of POST /orders and its order are kept, in seconds"),
    svc::Setting::text("users_url", "",
                       "The User Service (http://host:port) that POST /orders asks whether its user_id exists; "
                       "empty: any user_id is taken"),
    svc::Setting::millis("users_timeout_ms", "1000", 1, 60000,
                         "How long one call to the User Service may take (less when the request's budget ends first)"),
    svc::Setting::millis("users_cache_ttl_ms", "30000", 0, 86400000,
                         "How long a user known to exist is not asked for again (0: always asked)"),
};

svc::RoutePluginManifest manifest() { return {.schema = "orders", .settings = kSettings}; }

orders::BatchLimits batchLimits(const svc::Settings& settings) {
  const auto setting = [&](std::string_view key) { return static_cast<std::size_t>(settings.integer(key)); };
  return orders::BatchLimits{.maxBatch = setting("max_batch"),
                             .concurrentWrites = setting("concurrent_writes"),
                             .concurrentReads = setting("concurrent_reads")};
}

constexpr std::size_t kUserCacheCapacity = 100000;

/// The User Service's client, when [orders] users_url names one.
std::unique_ptr<orders::UsersClient> usersClient(const svc::PluginContext& context) {
  const std::string& url = context.settings.text("users_url");
  if (url.empty()) return nullptr;
  svc::Upstream& users = context.upstreams.upstream("users", url, context.settings.millis("users_timeout_ms"));
  return std::make_unique<orders::UsersClient>(users, context.settings.millis("users_cache_ttl_ms"), kUserCacheCapacity);
}

class OrdersPlugin final : public svc::RoutePlugin {
 public:
  explicit OrdersPlugin(const svc::PluginContext& context)
      : repository_(context.requireStorage(), batchLimits(context.settings), context.workers),
        users_(usersClient(context)),
        orders_(repository_, context.logger),
        create_(repository_, users_.get(), context.workers, context.logger,
                context.metrics.counter("orders_created_total", "Orders stored by POST /orders."),
                std::chrono::seconds(context.settings.integer("idempotency_key_ttl_seconds"))) {}

  void registerRoutes(svc::RouteRegistry& routes) override {
    orders::registerOrderRoutes(routes, "/orders", routes_);
    orders::registerOrderRoutes(routes, "/api/v1/orders", routes_);
  }

 private:
  orders::OrderRepository repository_;
  std::unique_ptr<orders::UsersClient> users_;
  orders::OrderService orders_;
  orders::CreateOrder create_;
  orders::OrderRoutes routes_{orders_, create_};
};

std::unique_ptr<svc::RoutePlugin> createOrdersPlugin(const svc::PluginContext& context) {
  return std::make_unique<OrdersPlugin>(context);
}

}  // namespace

SVC_ROUTE_PLUGIN(createOrdersPlugin, manifest)
