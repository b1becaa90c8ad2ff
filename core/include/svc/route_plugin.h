#pragma once

/// Everything a route plugin compiles against: requests and replies, domain errors, JSON,
/// storage leases and named statements, settings, the log, metrics. Link OrderService::plugin_api.
/// See docs/architecture.md, "Writing a new plugin".
#include <memory>
#include <string>
#include <string_view>

#include <boost/dll/alias.hpp>

#include "svc/async.h"
#include "svc/context.h"
#include "svc/errors.h"
#include "svc/http.h"
#include "svc/json.h"
#include "svc/log.h"
#include "svc/metrics.h"
#include "svc/routes.h"
#include "svc/settings.h"
#include "svc/storage.h"
#include "svc/timestamp.h"
#include "svc/upstream.h"
#include "svc/version.h"

namespace svc {

/// What the host hands a route plugin's factory.
struct PluginContext {
  std::string name;          ///< the plugin's name in the .ini (route.<name>): also its section
  const Settings& settings;  ///< its section, read against the schema of its manifest
  const Logger& logger;
  Metrics& metrics;          ///< counters the host serves at GET /metrics
  Executor& workers;         ///< the host's threads for work that may block
  Upstreams& upstreams;      ///< clients of the other services it calls
  Storage* storage = nullptr;  ///< the storage plugin's connections; null when none is configured

  /// The storage, or an exception explaining that this plugin needs one.
  Storage& requireStorage() const;
};

/// A plugin that serves HTTP routes.
class RoutePlugin {
 public:
  virtual ~RoutePlugin() = default;
  virtual void registerRoutes(RouteRegistry& routes) = 0;
};

/// What the host reads of a route plugin before it creates one.
struct RoutePluginManifest {
  /// Its tables' migrations: <[plugins] migrations>/<schema>/<backend>/NNN_*.sql; "" for none.
  /// Every instance of the plugin, whatever its name in the .ini, shares them.
  std::string_view schema;
  SettingsSchema settings;  ///< the keys of its section
};

namespace plugin_abi {
using RouteFactory = std::unique_ptr<RoutePlugin>(const PluginContext&);
using ManifestFunction = RoutePluginManifest();
inline constexpr const char* kRouteFactorySymbol = "svc_create_route_plugin";
inline constexpr const char* kManifestSymbol = "svc_route_plugin_manifest";
}  // namespace plugin_abi

}  // namespace svc

/// Exports a route plugin: `factory` is a function
/// `std::unique_ptr<svc::RoutePlugin>(const svc::PluginContext&)`, `manifest` a function returning
/// its svc::RoutePluginManifest. Use once, at namespace scope, in one source file of the plugin.
#define SVC_ROUTE_PLUGIN(factory, manifest)                              \
  BOOST_DLL_ALIAS(svc::plugin_abi::apiVersion, svc_plugin_api_version) \
  BOOST_DLL_ALIAS(manifest, svc_route_plugin_manifest)                  \
  BOOST_DLL_ALIAS(factory, svc_create_route_plugin)
