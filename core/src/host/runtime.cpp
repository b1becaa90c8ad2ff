#include "runtime.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <Poco/Util/LayeredConfiguration.h>

#include "host_schema.h"
#include "metrics_page.h"
#include "prometheus_text.h"
#include "svc/json.h"

namespace svc::host {

namespace {

void addHealthRoute(Router& router) {
  const std::string healthy = json::ObjectWriter().add("status", "ok").str();
  router.addNonBlocking("GET", "/health", [healthy](const Request&) { return Response::json(200, healthy); });
}

std::string readyBody(const SessionPool* storage) {
  json::ObjectWriter body;
  body.add("status", "ready");
  if (storage) body.add("backend", storage->backend());
  else body.addRaw("backend", "null");
  return body.str();
}

// The service's OpenAPI document, read once: a file that is not one JSON document is a
// configuration error, not a 500 for every client who asks.
void addOpenApiRoute(Router& router, const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw ConfigError("service.openapi_document: cannot read " + file.string());
  std::string document((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    json::parse(document, json::ParseOptions{.maxDepth = 64});
  } catch (const json::ParseError& error) {
    throw ConfigError("service.openapi_document: " + file.string() + " is not JSON: " + error.what());
  }
  router.addNonBlocking("GET", "/openapi.json", [document](const Request&) { return Response::json(200, document); });
}

}  // namespace

Runtime::Runtime(const HostSettings& settings, Poco::Util::AbstractConfiguration& config, const Logger& logger,
                 const Counter& logLinesDropped)
    : settings_(settings),
      config_(config),
      logger_(logger),
      logLinesDropped_(logLinesDropped),
      pluginMetrics_(hostMetricNames()),
      workers_(workerThreads(settings.server, settings.storage, settings.pool),
               static_cast<std::size_t>(settings.server.maxQueued)),
      upstreams_(settings.upstreams, logger) {
  addHostRoutes();
  std::vector<RoutePluginManifest> manifests;
  std::vector<std::string> schemas;
  for (const PluginRef& plugin : settings.routes) {
    manifests.push_back(libraries_.routeManifest(plugin));
    const std::string schema(manifests.back().schema);
    if (!schema.empty() && std::find(schemas.begin(), schemas.end(), schema) == schemas.end()) schemas.push_back(schema);
  }
  if (settings.storage) loadStorage(*settings.storage, schemas);
  for (std::size_t i = 0; i < settings.routes.size(); ++i) loadRoutes(settings.routes[i], manifests[i]);
  httpMetrics_ = std::make_unique<HttpMetrics>(router_.patterns());
  dispatcher_ = std::make_unique<Dispatcher>(router_, logger_, settings_.server.requestBudget);
  http_ = std::make_unique<HttpServer>(settings_.server, *dispatcher_, *httpMetrics_, workers_, logger_);
  for (const std::string& warning : settingWarnings_) logger_.warning("Unknown setting; ignored", {{"detail", warning}});
}

void Runtime::addHostRoutes() {
  addHealthRoute(router_);
  router_.add("GET", "/health/ready", [this](const Request&) { return readiness(); });
  router_.addNonBlocking("GET", "/metrics", [this](const Request&) { return metrics(); });
  for (const char* probe : {"/health", "/health/ready", "/metrics"}) router_.markProbe(probe);
  if (!settings_.openApiDocument.empty()) addOpenApiRoute(router_, settings_.openApiDocument);
}

// Ready when the storage answers a SELECT 1 within the readiness timeout (a 503 from the
// dispatcher otherwise); with no storage plugin there is nothing to wait for.
Response Runtime::readiness() const {
  if (draining_) {
    return Response::problem(Problem{.status = 503, .detail = "The service is shutting down; use another instance"});
  }
  if (storage_) storage_->ping(settings_.pool.readyTimeout);
  return Response::json(200, readyBody(storage_.get()));
}

Response Runtime::metrics() const {
  return Response{.status = 200,
                  .contentType = prometheus::kContentType,
                  .body = metricsPage(*httpMetrics_, storage_.get(), logLinesDropped_, upstreams_, pluginMetrics_)};
}

// Calls still under way complete into the plugins and connections they came from: they end
// while those are still there.
Runtime::~Runtime() { upstreams_.stop(); }

const Settings& Runtime::keep(Settings settings) {
  sections_.push_back(std::move(settings));
  return sections_.back();
}

// A storage plugin reads its own section and, deprecated, its own keys from [storage], where
// they were before it had a section.
void Runtime::loadStorage(const PluginRef& plugin, std::vector<std::string> schemas) {
  const SettingsSchema schema = libraries_.storageSettings(plugin);
  const Settings& settings = keep(readPluginSettings(config_, plugin.name, schema, settingWarnings_, "storage"));
  checkStorageSection(plugin, schema);
  std::unique_ptr<StorageBackend> backend = libraries_.createStorageBackend(
      plugin, StoragePluginContext{.name = plugin.name,
                                   .settings = settings,
                                   .logger = logger_,
                                   .statementTimeout = settings_.pool.statementTimeout});
  const std::string name = backend->name();
  const std::string target = backend->target();
  PoolSettings pool = settings_.pool;
  pool.schemas = std::move(schemas);
  try {
    storage_ = std::make_unique<SessionPool>(std::move(backend), std::move(pool), logger_);
  } catch (const MigrationError& error) {
    throw PluginLoadError(plugin, error.what());
  }
  logger_.info("Loaded storage plugin", {{"plugin", plugin.library.string()},
                                         {"backend", name},
                                         {"target", target},
                                         {"pool_size", static_cast<std::int64_t>(settings_.pool.size)}});
}

// The keys of [storage] that are not the pool's: the storage plugin's (still read, with one
// warning that also names the variables of their old name) or unknown.
void Runtime::checkStorageSection(const PluginRef& plugin, SettingsSchema schema) {
  std::string deprecated;
  for (const std::string& key : settings_.deprecatedStorageKeys) {
    if (declares(schema, key)) deprecated += (deprecated.empty() ? "" : ",") + key;
    else settingWarnings_.push_back(unknownSetting("storage", key, hostSchema("storage")));
  }
  for (const std::string& name : settings_.deprecatedStorageVariables) deprecated += (deprecated.empty() ? "" : ",") + name;
  if (deprecated.empty()) return;
  logger_.warning("Deprecated: backend keys in [storage]; move them to the storage plugin's section",
                  {{"keys", deprecated}, {"section", plugin.name}});
}

void Runtime::loadRoutes(const PluginRef& plugin, const RoutePluginManifest& manifest) {
  const Settings& settings = keep(readPluginSettings(config_, plugin.name, manifest.settings, settingWarnings_));
  std::unique_ptr<RoutePlugin> routes = libraries_.createRoutePlugin(
      plugin, PluginContext{.name = plugin.name,
                            .settings = settings,
                            .logger = logger_,
                            .metrics = pluginMetrics_,
                            .workers = workers_,
                            .upstreams = upstreams_,
                            .storage = storage_.get()});
  const std::size_t before = router_.routes().size();
  try {
    routes->registerRoutes(router_);
  } catch (const std::exception& error) {
    throw PluginLoadError(plugin, std::string("cannot register its routes: ") + error.what());
  }
  routePlugins_.push_back(std::move(routes));
  for (std::size_t i = before; i < router_.routes().size(); ++i) {
    const Route& route = router_.routes()[i];
    logger_.debug("Route registered", {{"plugin", plugin.name}, {"method", route.method}, {"pattern", route.pattern}});
  }
  logger_.info("Loaded route plugin", {{"plugin", plugin.name},
                                       {"library", plugin.library.string()},
                                       {"schema", manifest.schema},
                                       {"routes", static_cast<std::int64_t>(router_.routes().size() - before)}});
}

void Runtime::start() {
  if (storage_) {
    try {
      storage_->prepareSchema();
      // As many connections as workers can use at once, before the first requests would each
      // wait for one of their own: opened on demand, the first second after a start ran a
      // PostgreSQL list at p99 18 ms instead of 6 ms.
      storage_->warmUp(static_cast<std::size_t>(workers_.threadCount()));
    } catch (const StorageUnavailable& error) {
      logger_.warning("Database unreachable at start-up; requests that need it get 503 until it is back",
                      {{"backend", storage_->backend()}, {"cause", error.cause()}});
    }
  }
  http_->start();
}

bool Runtime::stop(std::chrono::milliseconds grace) { return http_->stop(grace); }

}  // namespace svc::host
