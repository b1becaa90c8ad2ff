#include "settings.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>

namespace svc::host {

namespace {

using Config = Poco::Util::AbstractConfiguration;

// The sections the host reads itself; [config] only names a base file.
const std::set<std::string> kHostSections{"config", "service", "server", "upstreams", "logging", "plugins", "storage"};
const std::set<std::string> kHostStorageKeys{"pool_size",        "acquire_timeout_ms", "reconnect_backoff_ms",
                                             "ready_timeout_ms", "statement_timeout_ms", "migrations"};

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
  server.maxThreads = static_cast<int>(integer(config, "server.max_threads", server.maxThreads, 0, 4096));
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
  server.requestBudget = millis(config, "server.request_budget_ms", server.requestBudget);
  server.maxHeadBytes = static_cast<std::size_t>(
      integer(config, "server.max_head_bytes", static_cast<std::int64_t>(server.maxHeadBytes), 1024, 1 << 20));
  server.maxBodyBytes = static_cast<std::size_t>(
      integer(config, "server.max_body_bytes", static_cast<std::int64_t>(server.maxBodyBytes), 1, 64 << 20));
  server.drainDelay = millis(config, "server.drain_delay_ms", server.drainDelay, 0);
  server.shutdownGrace = millis(config, "server.shutdown_grace_ms", server.shutdownGrace, 0);
  return server;
}

UpstreamSettings readUpstreams(const Config& config) {
  UpstreamSettings upstreams;
  upstreams.maxConnections =
      static_cast<int>(integer(config, "upstreams.max_connections", upstreams.maxConnections, 1, 1024));
  upstreams.maxQueued = static_cast<int>(integer(config, "upstreams.max_queued", upstreams.maxQueued, 0, 1 << 20));
  upstreams.retries = static_cast<int>(integer(config, "upstreams.retries", upstreams.retries, 0, 10));
  upstreams.retryBudgetPercent =
      static_cast<int>(integer(config, "upstreams.retry_budget_percent", upstreams.retryBudgetPercent, 0, 100));
  upstreams.breakerFailures =
      static_cast<int>(integer(config, "upstreams.breaker_failures", upstreams.breakerFailures, 1, 1000));
  upstreams.breakerOpen = millis(config, "upstreams.breaker_open_ms", upstreams.breakerOpen);
  return upstreams;
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
  return PluginRef{storageSection(library), libraryPath(config, library)};
}

std::vector<std::string> deprecatedStorageKeys(const Config& config) {
  Config::Keys keys;
  config.keys("storage", keys);
  std::erase_if(keys, [](const std::string& key) { return isHostStorageKey(key); });
  return keys;
}

std::vector<PluginRef> readRoutePlugins(const Config& config) {
  std::vector<PluginRef> routes;
  Config::Keys names;
  config.keys("plugins.route", names);
  for (const std::string& name : names) {
    const std::string library = text(config, "plugins.route." + name);
    if (library.empty()) continue;  // how an overlay unloads a plugin of its base
    if (kHostSections.contains(name) || name.rfind("storage-", 0) == 0) {
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
    settings.upstreams = readUpstreams(config);
    settings.logging = readLogging(config);
    settings.storage = readStoragePlugin(config);
    settings.routes = readRoutePlugins(config);
    if (settings.storage) {
      settings.pool = readPool(config);
      settings.pool.migrationsRoot = readMigrationsRoot(config, settings.warnings);
      settings.deprecatedStorageKeys = deprecatedStorageKeys(config);
    }
    return settings;
  } catch (const Poco::Exception& error) {
    // e.g. a ${reference} that names no property
    throw ConfigError(error.displayText());
  }
}

int workerThreads(const ServerSettings& server, const std::optional<PluginRef>& storage, const PoolSettings& pool) {
  if (server.maxThreads > 0) return server.maxThreads;
  return storage ? static_cast<int>(pool.size) : kWorkersWithoutStorage;
}

namespace {

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string nearestKey(const std::string& key, SettingsSchema schema) {
  std::string nearest;
  std::size_t best = std::string::npos;
  for (const Setting& setting : schema) {
    const std::size_t distance = editDistance(key, setting.key);
    if (distance < best) {
      best = distance;
      nearest = setting.key;
    }
  }
  return nearest;
}

}  // namespace

Settings readPluginSettings(const Config& config, const std::string& section, SettingsSchema schema,
                            std::vector<std::string>& warnings, const std::string& fallback) {
  std::map<std::string, std::string> values;
  Config::Keys keys;
  config.keys(section, keys);
  for (const std::string& key : keys) {
    const bool known = std::any_of(schema.begin(), schema.end(), [&](const Setting& s) { return s.key == key; });
    if (!known) {
      const std::string nearest = nearestKey(key, schema);
      warnings.push_back("unknown setting " + section + "." + key +
                         (nearest.empty() ? std::string(" (the section has no settings)")
                                          : "; did you mean " + section + "." + nearest + "?"));
      continue;
    }
    values[key] = text(config, section + "." + key);
  }
  for (const Setting& setting : schema) {
    const std::string key(setting.key);
    if (values.contains(key)) continue;
    if (!fallback.empty() && config.hasProperty(fallback + "." + key)) {
      values[key] = text(config, fallback + "." + key);
    } else if (std::string(setting.fallback).find("${") != std::string::npos) {
      values[key] = config.expand(std::string(setting.fallback));
    }
  }
  return Settings(section, schema, values);
}

bool isHostStorageKey(const std::string& key) { return kHostStorageKeys.contains(key); }

std::string storageSection(const std::string& library) {
  if (library.find('/') == std::string::npos) return library;
  const std::string file = std::filesystem::path(library).stem().string();
  return file.rfind("lib", 0) == 0 ? file.substr(3) : file;
}

std::vector<Poco::AutoPtr<Config>> readConfigFiles(const std::filesystem::path& file) {
  std::vector<Poco::AutoPtr<Config>> files;
  std::vector<std::filesystem::path> read;
  std::filesystem::path next = file;
  std::string namedBy;
  while (!next.empty()) {
    if (!std::filesystem::is_regular_file(next)) {
      throw ConfigError("configuration file " + next.string() + " does not exist" + namedBy);
    }
    const std::filesystem::path canonical = std::filesystem::canonical(next);
    if (std::find(read.begin(), read.end(), canonical) != read.end()) {
      throw ConfigError("configuration file " + next.string() + " is its own base" + namedBy);
    }
    Poco::AutoPtr<Config> ini;
    try {
      ini = new Poco::Util::IniFileConfiguration(next.string());
    } catch (const Poco::Exception& error) {
      throw ConfigError("cannot read configuration file " + next.string() + ": " + error.displayText());
    }
    files.push_back(ini);
    read.push_back(canonical);
    const std::string base = Poco::trim(ini->getString("config.base", ""));
    namedBy = " (config.base of " + next.string() + ")";
    next = base.empty() ? std::filesystem::path() : next.parent_path() / base;
  }
  return files;
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

namespace {

// The sections environment variables may name: the host's, those of the files, and those of the
// plugins the files (or the variables that replace their keys) name.
std::set<std::string> knownSections(const Config& files, const std::map<std::string, std::string>& overrides) {
  Poco::AutoPtr<Poco::Util::LayeredConfiguration> merged = new Poco::Util::LayeredConfiguration;
  Poco::AutoPtr<Poco::Util::MapConfiguration> replaced = new Poco::Util::MapConfiguration;
  for (const auto& [key, value] : overrides) replaced->setString(key, value);
  merged->add(replaced, 0);
  merged->add(Poco::AutoPtr<Config>(const_cast<Config*>(&files), true), 1);
  std::set<std::string> sections = kHostSections;
  Config::Keys names;
  files.keys(names);
  sections.insert(names.begin(), names.end());
  merged->keys("plugins.route", names);
  sections.insert(names.begin(), names.end());
  const std::string storage = Poco::trim(merged->getRawString("plugins.storage", ""));
  if (!storage.empty()) sections.insert(storageSection(storage));
  return sections;
}

}  // namespace

EnvironmentOverrides environmentOverrides(const Config& files, const std::string& prefix,
                                          const std::map<std::string, std::string>& environment) {
  std::vector<std::string> keys;
  collectKeys(files, "", keys);
  std::map<std::string, std::string> keyOf;  // variable name -> key of the files
  for (const std::string& key : keys) keyOf[environmentName(prefix, key)] = key;

  EnvironmentOverrides result;
  std::vector<std::pair<std::string, std::string>> others;
  for (const auto& [name, value] : environment) {
    if (name.rfind(prefix + "_", 0) != 0) continue;
    const auto key = keyOf.find(name);
    if (key != keyOf.end()) result.values[key->second] = value;
    else others.emplace_back(name, value);
  }
  const std::set<std::string> sections = knownSections(files, result.values);
  const auto storageOverride = result.values.find("plugins.storage");
  const std::string storagePlugin = Poco::trim(storageOverride != result.values.end()
                                                   ? storageOverride->second
                                                   : files.getRawString("plugins.storage", ""));
  for (const auto& [name, value] : others) {
    const std::string rest = name.substr(prefix.size() + 1);
    std::string section;
    for (const std::string& candidate : sections) {
      const std::string start = environmentPrefix(candidate) + "_";
      if (rest.rfind(start, 0) == 0 && rest.size() > start.size() && candidate.size() > section.size()) section = candidate;
    }
    if (section.empty()) {
      result.unmatched.push_back(name);
      continue;
    }
    std::string key = Poco::toLower(rest.substr(environmentPrefix(section).size() + 1));
    if (section == "plugins" && key.rfind("route_", 0) == 0) key[5] = '.';  // route.<name>, the one dotted key
    if (section == "storage" && !isHostStorageKey(key) && !storagePlugin.empty()) {
      result.deprecated.push_back(name);
      section = storageSection(storagePlugin);
      if (result.values.contains(section + "." + key)) continue;  // the new name wins
    }
    result.values[section + "." + key] = value;
  }
  return result;
}

}  // namespace svc::host
