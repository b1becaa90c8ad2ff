#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugin_loader.h"
#include "session_pool.h"
#include "support/test_database.h"

namespace test_support {

struct PoolOptions {
  std::size_t size = 4;
  std::chrono::milliseconds acquireTimeout{1000};
  std::chrono::milliseconds reconnectBackoff{250};
  std::chrono::milliseconds statementTimeout{5000};
  /// The backend's own (the server's) statement timeout; statementTimeout when unset.
  std::optional<std::chrono::milliseconds> serverStatementTimeout;
  std::filesystem::path migrationsRoot = std::string(ORDER_SERVICE_APP_DIR) + "/migrations";
  std::vector<std::string> schemas{"orders"};
};

/// A SessionPool of the backend under test, built the way the host builds it: the storage plugin
/// loaded from the service folder, its section `storage` read against the plugin's schema. The
/// plugin's library stays loaded as long as the pool.
inline std::shared_ptr<svc::SessionPool> makeTestPool(const TestDatabase& database,
                                                      const std::map<std::string, std::string>& storage,
                                                      const PoolOptions& options, const svc::Logger& logger) {
  struct Held {
    svc::host::PluginLibraries libraries;  // first: destroyed last
    svc::Settings settings;
    std::unique_ptr<svc::SessionPool> pool;
  };
  auto held = std::make_shared<Held>();
  const svc::host::PluginRef plugin{database.storagePlugin(), std::string(ORDER_SERVICE_APP_DIR) + "/plugins/lib" +
                                                                  database.storagePlugin() + ".so"};
  held->settings = svc::Settings(plugin.name, held->libraries.storageSettings(plugin), storage);
  auto backend = held->libraries.createStorageBackend(plugin, svc::StoragePluginContext{.name = plugin.name,
                                                                                        .settings = held->settings,
                                                                                        .logger = logger,
                                                                                        .statementTimeout =
                                                                                            options.serverStatementTimeout.value_or(
                                                                                                options.statementTimeout)});
  held->pool = std::make_unique<svc::SessionPool>(std::move(backend),
                                                  svc::PoolSettings{.size = options.size,
                                                                    .acquireTimeout = options.acquireTimeout,
                                                                    .reconnectBackoff = options.reconnectBackoff,
                                                                    .statementTimeout = options.statementTimeout,
                                                                    .migrationsRoot = options.migrationsRoot,
                                                                    .schemas = options.schemas},
                                                  logger);
  return std::shared_ptr<svc::SessionPool>(held, held->pool.get());
}

}  // namespace test_support
