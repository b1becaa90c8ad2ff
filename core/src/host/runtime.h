#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Util/AbstractConfiguration.h>

#include "dispatcher.h"
#include "http_metrics.h"
#include "http_server.h"
#include "metrics_registry.h"
#include "plugin_loader.h"
#include "router.h"
#include "session_pool.h"
#include "settings.h"
#include "svc/log.h"
#include "upstream_clients.h"
#include "worker_pool.h"
#include "svc/metrics.h"

namespace svc::host {

/// The assembled service: plugins, storage pool, routes and HTTP server. Members are declared in
/// the order that makes destruction safe: the server stops first, plugin libraries unload last.
class Runtime {
 public:
  /// Loads the plugins and registers their routes. Throws PluginLoadError or ConfigError.
  /// `logLinesDropped` is shown at /metrics.
  Runtime(const HostSettings& settings, Poco::Util::AbstractConfiguration& config, const Logger& logger,
          const Counter& logLinesDropped);
  ~Runtime();

  /// Brings the schema up to date when the database is reachable (otherwise it is retried on the
  /// first request) and starts serving.
  void start();
  std::uint16_t port() const { return http_->port(); }
  /// Every route served, the host's and the plugins'.
  const Router& router() const { return router_; }
  /// From now on readiness answers 503: the service is about to stop.
  void beginDrain() { draining_ = true; }
  /// See HttpServer::stop.
  bool stop(std::chrono::milliseconds grace);
  /// Keys of the plugins' sections and of [storage] that no schema declares, each with the nearest known key.
  const std::vector<std::string>& settingWarnings() const { return settingWarnings_; }

 private:
  void addHostRoutes();
  Response readiness() const;
  Response metrics() const;
  void loadStorage(const PluginRef& plugin, std::vector<std::string> schemas);
  void checkStorageSection(const PluginRef& plugin, SettingsSchema schema);
  void loadRoutes(const PluginRef& plugin, const RoutePluginManifest& manifest);
  const Settings& keep(Settings settings);

  const HostSettings& settings_;
  Poco::Util::AbstractConfiguration& config_;
  const Logger& logger_;
  const Counter& logLinesDropped_;

  PluginLibraries libraries_;
  MetricsRegistry pluginMetrics_;
  std::deque<Settings> sections_;  ///< the plugins' settings (a deque: references stay valid)
  std::vector<std::string> settingWarnings_;
  std::unique_ptr<SessionPool> storage_;
  WorkerPool workers_;  ///< before the plugins that post to it, after the storage its tasks use
  UpstreamClients upstreams_;  ///< likewise
  std::vector<std::unique_ptr<RoutePlugin>> routePlugins_;
  Router router_;
  std::unique_ptr<HttpMetrics> httpMetrics_;  ///< sized for the routes, so made once they are all registered
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<HttpServer> http_;
  std::atomic<bool> draining_{false};
};

}  // namespace svc::host
