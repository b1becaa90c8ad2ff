#include "settings.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <thread>

#include <Poco/String.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>

#include "host_schema.h"

namespace svc::host {

namespace {

using Config = Poco::Util::AbstractConfiguration;

// POCO leaves a ${reference} to a property that does not exist as it is.
std::string text(const Config& config, const std::string& key) {
  const std::string value = Poco::trim(config.getString(key));
  if (value.find("${") != std::string::npos) {
    throw ConfigError(key + " refers to a property that does not exist: " + value);
  }
  return value;
}

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

// A declared key such as route.<name> stands for every key below route.
bool covers(std::string_view declared, std::string_view key) {
  if (declared == key) return true;
  const std::size_t placeholder = declared.find(".<");
  if (placeholder == std::string_view::npos) return false;
  const std::string_view prefix = declared.substr(0, placeholder);
  return key.starts_with(prefix) && (key.size() == prefix.size() || key[prefix.size()] == '.');
}

void addUnknownSettings(const Config& config, const std::string& section, SettingsSchema schema,
                        std::vector<std::string>& warnings) {
  Config::Keys keys;
  config.keys(section, keys);
  for (const std::string& key : keys) {
    if (!declares(schema, key)) warnings.push_back(unknownSetting(section, key, schema));
  }
}

// The values of `section` (or of `fallback` for the keys `section` lacks), checked against `schema`.
Settings readSection(const Config& config, const std::string& section, SettingsSchema schema,
                     const std::string& fallback = "") {
  std::map<std::string, std::string> values;
  for (const Setting& setting : schema) {
    const std::string key(setting.key);
    if (config.hasProperty(section + "." + key)) {
      values[key] = text(config, section + "." + key);
    } else if (!fallback.empty() && config.hasProperty(fallback + "." + key)) {
      values[key] = text(config, fallback + "." + key);
    } else if (setting.fallback.find("${") != std::string_view::npos) {
      values[key] = config.expand(std::string(setting.fallback));
    }
  }
  return Settings(section, schema, values);
}

Settings readHostSection(const Config& config, const std::string& section, std::vector<std::string>& unknown) {
  addUnknownSettings(config, section, hostSchema(section), unknown);
  return readSection(config, section, hostSchema(section));
}

ServerSettings readServer(const Settings& server) {
  const auto count = [&](std::string_view key) { return static_cast<int>(server.integer(key)); };
  const auto bytes = [&](std::string_view key) { return static_cast<std::size_t>(server.integer(key)); };
  return ServerSettings{.host = server.text("host"),
                        .port = static_cast<std::uint16_t>(server.integer("port")),
                        .ioThreads = count("io_threads"),
                        .maxThreads = count("max_threads"),
                        .maxQueued = count("max_queued"),
                        .maxConnections = count("max_connections"),
                        .backlog = count("backlog"),
                        .keepAlive = server.boolean("keep_alive"),
                        .keepAliveTimeout = server.millis("keep_alive_timeout_ms"),
                        .maxKeepAliveRequests = count("max_keep_alive_requests"),
                        .receiveTimeout = server.millis("receive_timeout_ms"),
                        .requestTimeout = server.millis("request_timeout_ms"),
                        .requestBudget = server.millis("request_budget_ms"),
                        .maxHeadBytes = bytes("max_head_bytes"),
                        .maxBodyBytes = bytes("max_body_bytes"),
                        .drainDelay = server.millis("drain_delay_ms"),
                        .shutdownGrace = server.millis("shutdown_grace_ms")};
}

UpstreamSettings readUpstreams(const Settings& upstreams) {
  const auto count = [&](std::string_view key) { return static_cast<int>(upstreams.integer(key)); };
  return UpstreamSettings{.maxConnections = count("max_connections"),
                          .maxQueued = count("max_queued"),
                          .retries = count("retries"),
                          .retryBudgetPercent = count("retry_budget_percent"),
                          .breakerFailures = count("breaker_failures"),
                          .breakerOpen = upstreams.millis("breaker_open_ms")};
}

LoggingSettings readLogging(const Settings& logging) {
  static const std::map<std::string, LogLevel> levels{
      {"debug", LogLevel::Debug}, {"info", LogLevel::Info}, {"warning", LogLevel::Warning}, {"error", LogLevel::Error}};
  return LoggingSettings{.format = logging.text("format") == "text" ? LogFormat::Text : LogFormat::Json,
                         .level = levels.at(logging.text("level")),
                         .file = logging.text("file"),
                         .rotation = logging.text("rotation")};
}

bool isHostSection(const std::string& name) {
  const auto& sections = hostSections();
  return std::any_of(sections.begin(), sections.end(), [&](const SettingsSection& s) { return s.name == name; });
}

// A plugin is named by its library: a bare name is lib<name>.so in the plugins directory.
std::filesystem::path libraryPath(const Settings& plugins, const std::string& library) {
  if (library.find('/') != std::string::npos) return library;
  const std::string& directory = plugins.text("directory");
  if (directory.empty()) throw ConfigError("plugins.directory is required to find plugin " + library);
  return std::filesystem::path(directory) / ("lib" + library + ".so");
}

std::optional<PluginRef> readStoragePlugin(const Settings& plugins) {
  const std::string& library = plugins.text("storage");
  if (library.empty()) return std::nullopt;
  return PluginRef{storageSection(library), libraryPath(plugins, library)};
}

std::vector<std::string> deprecatedStorageKeys(const Config& config) {
  Config::Keys keys;
  config.keys("storage", keys);
  std::erase_if(keys, [](const std::string& key) { return isHostStorageKey(key); });
  return keys;
}

// route.<name> is the one key of [plugins] that the schema cannot name: Settings holds none of them.
std::vector<PluginRef> readRoutePlugins(const Config& config, const Settings& plugins) {
  std::vector<PluginRef> routes;
  Config::Keys names;
  config.keys("plugins.route", names);
  for (const std::string& name : names) {
    const std::string library = text(config, "plugins.route." + name);
    if (library.empty()) continue;  // how an overlay unloads a plugin of its base
    if (isHostSection(name) || name.rfind("storage-", 0) == 0) {
      throw ConfigError("plugins.route." + name + ": the name of a route plugin cannot be a host section");
    }
    routes.push_back(PluginRef{name, libraryPath(plugins, library)});
  }
  return routes;
}

PoolSettings readPool(const Settings& storage) {
  PoolSettings pool;
  pool.size = static_cast<std::size_t>(storage.integer("pool_size"));
  pool.acquireTimeout = storage.millis("acquire_timeout_ms");
  pool.reconnectBackoff = storage.millis("reconnect_backoff_ms");
  pool.readyTimeout = storage.millis("ready_timeout_ms");
  pool.statementTimeout = storage.millis("statement_timeout_ms");
  return pool;
}

// [plugins] migrations names the root of every plugin's migrations. Before migrations were per
// plugin, [storage] migrations named one backend's folder, <root>/<backend>: an .ini that still
// has only that key starts, with its parent folder as the root and a warning.
std::filesystem::path readMigrationsRoot(const Settings& plugins, const Settings& storage,
                                         std::vector<std::string>& warnings) {
  const std::string& root = plugins.text("migrations");
  const std::string& legacy = storage.text("migrations");
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

HostSettings readHostSettings(const Config& config, const std::string& defaultServiceName) {
  HostSettings settings;
  std::vector<std::string>& unknown = settings.unknownSettings;
  const Settings service = readHostSection(config, "service", unknown);
  settings.serviceName = service.text("name").empty() ? defaultServiceName : service.text("name");
  settings.openApiDocument = service.text("openapi_document");
  settings.server = readServer(readHostSection(config, "server", unknown));
  settings.upstreams = readUpstreams(readHostSection(config, "upstreams", unknown));
  settings.logging = readLogging(readHostSection(config, "logging", unknown));
  const Settings plugins = readHostSection(config, "plugins", unknown);
  addUnknownSettings(config, "config", hostSchema("config"), unknown);
  settings.storage = readStoragePlugin(plugins);
  settings.routes = readRoutePlugins(config, plugins);
  if (settings.storage) {  // [storage]'s unknown keys wait for the storage plugin's schema (Runtime)
    const Settings storage = readSection(config, "storage", hostSchema("storage"));
    settings.pool = readPool(storage);
    settings.pool.migrationsRoot = readMigrationsRoot(plugins, storage, settings.warnings);
    settings.deprecatedStorageKeys = deprecatedStorageKeys(config);
  }
  return settings;
}

}  // namespace

HostSettings readSettings(const Config& config, const std::string& defaultServiceName) {
  try {
    return readHostSettings(config, defaultServiceName);
  } catch (const SettingError& error) {
    throw ConfigError(error.what());
  } catch (const Poco::Exception& error) {
    // e.g. a ${reference} that names no property
    throw ConfigError(error.displayText());
  }
}

// The workers run the database work (the orders' batches, every synchronous route): as much at once
// as the cores can run. With a worker per pooled connection, 32 lists at once on 2 cores shared with
// PostgreSQL left it to the kernel's scheduler which of them waited, and some waited up to 2 s
// (issue 20); a queue in front of a few workers serves them in order.
int workerThreads(const ServerSettings& server, const std::optional<PluginRef>& storage, const PoolSettings& pool) {
  if (server.maxThreads > 0) return server.maxThreads;
  if (!storage) return kWorkersWithoutStorage;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(2 * cores, 1, static_cast<int>(pool.size));
}

bool declares(SettingsSchema schema, std::string_view key) {
  return std::any_of(schema.begin(), schema.end(), [&](const Setting& setting) { return covers(setting.key, key); });
}

std::string unknownSetting(const std::string& section, const std::string& key, SettingsSchema schema) {
  const std::string nearest = nearestKey(key, schema);
  return "unknown setting " + section + "." + key +
         (nearest.empty() ? std::string(" (the section has no settings)") : "; did you mean " + section + "." + nearest + "?");
}

Settings readPluginSettings(const Config& config, const std::string& section, SettingsSchema schema,
                            std::vector<std::string>& warnings, const std::string& fallback) {
  addUnknownSettings(config, section, schema, warnings);
  return readSection(config, section, schema, fallback);
}

bool isHostStorageKey(const std::string& key) { return declares(hostSchema("storage"), key); }

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
  std::set<std::string> sections;
  for (const SettingsSection& section : hostSections()) sections.insert(section.name);
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
