// A route plugin of its own repository: GET /hello/{name} answers {"greeting":"hello","name":"<name>"}.
// Its .ini section ([hello] for route.hello = ...) may set another greeting.
#include <memory>
#include <string>

#include "svc/route_plugin.h"

namespace {

constexpr svc::Setting kSettings[] = {
    svc::Setting::text("greeting", "hello", "What GET /hello/{name} greets with"),
};

svc::RoutePluginManifest manifest() { return {.schema = "", .settings = kSettings}; }

class HelloPlugin final : public svc::RoutePlugin {
 public:
  explicit HelloPlugin(const svc::PluginContext& context) : greeting_(context.settings.text("greeting")) {}

  void registerRoutes(svc::RouteRegistry& routes) override {
    routes.add("GET", "/hello/{name}", [this](const svc::Request& request) {
      svc::json::ObjectWriter body;
      body.add("greeting", greeting_).add("name", request.pathParam("name"));
      return svc::Response::json(200, body.str());
    });
  }

 private:
  std::string greeting_;
};

std::unique_ptr<svc::RoutePlugin> createHelloPlugin(const svc::PluginContext& context) {
  return std::make_unique<HelloPlugin>(context);
}

}  // namespace

SVC_ROUTE_PLUGIN(createHelloPlugin, manifest)
