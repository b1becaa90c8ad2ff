// The users route plugin, the User Service's (config/user-service.ini): wires repository ->
// service -> routes on the host's storage.
#include <memory>

#include "repository/user_repository.h"
#include "routes/user_routes.h"
#include "services/user_service.h"
#include "svc/route_plugin.h"

namespace {

svc::RoutePluginManifest manifest() { return {.schema = "users", .settings = {}}; }

class UsersPlugin final : public svc::RoutePlugin {
 public:
  explicit UsersPlugin(const svc::PluginContext& context)
      : repository_(context.requireStorage()),
        users_(repository_, context.logger,
               context.metrics.counter("users_created_total", "Users stored by POST /users.")) {}

  void registerRoutes(svc::RouteRegistry& routes) override { users::registerUserRoutes(routes, users_); }

 private:
  users::UserRepository repository_;
  users::UserService users_;
};

std::unique_ptr<svc::RoutePlugin> createUsersPlugin(const svc::PluginContext& context) {
  return std::make_unique<UsersPlugin>(context);
}

}  // namespace

SVC_ROUTE_PLUGIN(createUsersPlugin, manifest)
