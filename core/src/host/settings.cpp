#include "settings.h"

#include <cctype>
#include <limits>

#include <Poco/NumberParser.h>
#include <Poco/String.h>

namespace svc::host {

namespace {

using Config = Poco::Util::AbstractConfiguration;

// POCO leaves a ${reference} to a property that does not exist as it is.
std::string text(const Config& config, const std::string& key, const std::string& fallback = "") {
  const std::string value = Poco::trim(config.getString(key, fallback));
  if (value.find("${") != std::string::npos) {
    throw ConfigError(key + " refers to a property that does not exist: " + value);
  }
  return value;
}

std::int64_t integer(const Config& config, const std::string& key, std::int64_t fallback, std::int64_t min,
                     std::int64_t max) {
  if (!config.hasProperty(key)) return fallback;
  const std::string number = text(config, key);
  Poco::Int64 value = 0;
  if (!Poco::NumberParser::tryParse64(number, value) || value < min || value > max) {
    throw ConfigError(key + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                      ", not \"" + number + "\"");
  }
  return value;
}

std::chrono::milliseconds millis(const Config& config, const std::string& key, std::chrono::milliseconds fallback,
                                 std::int64_t min = 1) {
  return std::chrono::milliseconds(integer(config, key, fallback.count(), min, 24LL * 3600 * 1000));
}

bool boolean(const Config& config, const std::string& key, bool fallback) {
  if (!config.hasProperty(key)) return fallback;
  const std::string value = Poco::toLower(text(config, key));
  if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
  if (value == "false" || value == "no" || value == "off" || value == "0") return false;
  throw ConfigError(key + " must be true or false, not \"" + value + "\"");
}

template <class T>
T choice(const Config& config, const std::string& key, T fallback, const std::map<std::string, T>& options) {
  if (!config.hasProperty(key)) return fallback;
  const std::string value = Poco::toLower(text(config, key));
  const auto it = options.find(value);
  if (it != options.end()) return it->second;
  std::string allowed;
  for (const auto& [name, unused] : options) allowed += (allowed.empty() ? "" : ", ") + name;
  throw ConfigError(key + " must be one of " + allowed + ", not \"" + value + "\"");
}

ServerSettings readServer(const Config& config) {
  ServerSettings server;
  server.host = text(config, "server.host", server.host);
  server.port = static_cast<std::uint16_t>(integer(config, "server.port", server.port, 0, 65535));
  server.ioThreads = static_cast<int>(integer(config, "server.io_threads", server.ioThreads, 1, 64));
  server.maxThreads = static_cast<int>(integer(config, "server.max_threads", server.maxThreads, 1, 4096));
  server.maxQueued = static_cast<int>(integer(config, "server.max_queued", server.maxQueued, 1, 1 << 20));
  server.maxConnections =
      static_cast<int>(integer(config, "server.max_connections", server.maxConnections, 1, 1 << 20));
  server.backlog = static_cast<int>(integer(config, "server.backlog", server.backlog, 1, 65536));
  server.keepAlive = boolean(config, "server.keep_alive", server.keepAlive);
  server.keepAliveTimeout = millis(config, "server.keep_alive_timeout_ms", server.keepAliveTimeout);
  server.maxKeepAliveRequests = static_cast<int>(
      integer(config, "server.max_keep_alive_requests", server.maxKeepAliveRequests, 0, 1 << 30));
  server.receiveTimeout = millis(config, "server.receive_timeout_ms", server.receiveTimeout);
  server.requestTimeout = millis(config, "server.request_timeout_ms", server.requestTimeout);
  server.maxHeadBytes = static_cast<std::size_t>(
      integer(config, "server.max_head_bytes", static_cast<std::int64_t>(server.maxHeadBytes), 1024, 1 << 20));
  server.maxBodyBytes = static_cast<std::size_t>(
      integer(config, "server.max_body_bytes", static_cast<std::int64_t>(server.maxBodyBytes), 1, 64 << 20));
  server.drainDelay = millis(config, "server.drain_delay_ms", server.drainDelay, 0);
  server.shutdownGrace = millis(config, "server.shutdown_grace_ms", server.shutdownGrace, 0);
  return server;
}

LoggingSettings readLogging(const Config& config) {
  LoggingSettings logging;
  logging.format = choice<LogFormat>(config, "logging.format", logging.format,
                                     {{"json", LogFormat::Json}, {"text", LogFormat::Text}});
  logging.level = choice<LogLevel>(config, "logging.level", logging.level,
                                   {{"debug", LogLevel::Debug},
                                    {"info", LogLevel::Info},
                                    {"warning", LogLevel::Warning},
                                    {"error", LogLevel::Error}});
  logging.file = text(config, "logging.file");
  logging.rotation = text(config, "logging.rotation");
  return logging;
}

// A plugin is named by its library: a bare name is lib<name>.so in the plugins directory.
std::filesystem::path libraryPath(const Config& config, const std::string& library) {
  if (library.find('/') != std::string::npos) return library;
  const std::string directory = text(config, "plugins.directory");
  if (directory.empty()) throw ConfigError("plugins.directory is required to find plugin " + library);
  return std::filesystem::path(directory) / ("lib" + library + ".so");
}

std::optional<PluginRef> readStoragePlugin(const Config& config) {
  const std::string library = text(config, "plugins.storage");
  if (library.empty()) return std::nullopt;
  return PluginRef{"storage", libraryPath(config, library)};
}

std::vector<PluginRef> readRoutePlugins(const Config& config) {
  std::vector<PluginRef> routes;
  Config::Keys names;
  config.keys("plugins.route", names);
  for (const std::string& name : names) {
    const std::string library = text(config, "plugins.route." + name);
    if (library.empty()) throw ConfigError("plugins.route." + name + " names no library");
    if (name == "storage" || name == "server" || name == "logging" || name == "plugins" || name == "service") {
      throw ConfigError("plugins.route." + name + ": the name of a route plugin cannot be a host section");
    }
    routes.push_back(PluginRef{name, libraryPath(config, library)});
  }
  return routes;
}

PoolSettings readPool(const Config& config) {
  PoolSettings pool;
  pool.size = static_cast<std::size_t>(integer(config, "storage.pool_size", static_cast<std::int64_t>(pool.size), 1, 4096));
  pool.acquireTimeout = millis(config, "storage.acquire_timeout_ms", pool.acquireTimeout);
  pool.reconnectBackoff = millis(config, "storage.reconnect_backoff_ms", pool.reconnectBackoff, 0);
  pool.readyTimeout = millis(config, "storage.ready_timeout_ms", pool.readyTimeout);
  pool.statementTimeout = millis(config, "storage.statement_timeout_ms", pool.statementTimeout, 0);
  return pool;
}

// [plugins] migrations names the root of every plugin's migrations. Before migrations were per
// plugin, [storage] migrations named one backend's folder, <root>/<backend>: an .ini that still
// has only that key starts, with its parent folder as the root and a warning.
std::filesystem::path readMigrationsRoot(const Config& config, std::vector<std::string>& warnings) {
  const std::string root = text(config, "plugins.migrations");
  const std::string legacy = text(config, "storage.migrations");
  if (!root.empty()) {
    if (!legacy.empty()) warnings.push_back("storage.migrations is ignored: plugins.migrations replaces it");
    return root;
  }
  if (legacy.empty()) throw ConfigError("plugins.migrations must name the folder of the plugins' migrations");
  std::filesystem::path folder(legacy);
  if (!folder.has_filename()) folder = folder.parent_path();  // a trailing slash
  warnings.push_back("storage.migrations is deprecated: set plugins.migrations = " + folder.parent_path().string() +
                     " (the folder that holds <plugin>/<backend>/)");
  return folder.parent_path();
}

}  // namespace

HostSettings readSettings(const Config& config, const std::string& defaultServiceName) {
  try {
    HostSettings settings;
    settings.serviceName = text(config, "service.name", defaultServiceName);
    settings.openApiDocument = text(config, "service.openapi_document");
    settings.server = readServer(config);
    settings.logging = readLogging(config);
    settings.storage = readStoragePlugin(config);
    settings.routes = readRoutePlugins(config);
    if (settings.storage) {
      settings.pool = readPool(config);
      settings.pool.migrationsRoot = readMigrationsRoot(config, settings.warnings);
      for (const PluginRef& plugin : settings.routes) settings.pool.schemaPlugins.push_back(plugin.name);
    }
    return settings;
  } catch (const Poco::Exception& error) {
    // e.g. a ${reference} that names no property
    throw ConfigError(error.displayText());
  }
}

std::string environmentPrefix(const std::string& serviceName) {
  std::string prefix;
  for (const char c : serviceName) {
    prefix += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  }
  return prefix;
}

std::string environmentName(const std::string& prefix, const std::string& key) {
  return prefix + "_" + environmentPrefix(key);
}

namespace {

void collectKeys(const Config& config, const std::string& root, std::vector<std::string>& keys) {
  Config::Keys children;
  config.keys(root, children);
  for (const std::string& child : children) {
    const std::string key = root.empty() ? child : root + "." + child;
    if (config.hasProperty(key)) keys.push_back(key);
    collectKeys(config, key, keys);
  }
}

}  // namespace

void requireResolvedReferences(const Config& config, const Config& file) {
  std::vector<std::string> keys;
  collectKeys(file, "", keys);
  for (const std::string& key : keys) text(config, key);
}

std::map<std::string, std::string> environmentOverrides(const Config& file, const std::string& prefix,
                                                        const EnvironmentLookup& lookup) {
  std::vector<std::string> keys;
  collectKeys(file, "", keys);
  std::map<std::string, std::string> overrides;
  for (const std::string& key : keys) {
    if (auto value = lookup(environmentName(prefix, key))) overrides[key] = *value;
  }
  return overrides;
}

}  // namespace svc::host
