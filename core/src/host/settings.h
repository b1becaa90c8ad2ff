#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "session_pool.h"
#include "svc/log.h"
#include "svc/settings.h"

namespace svc::host {

/// A missing or invalid setting; the message names the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The host's settings as the rest of the host uses them, filled from the sections of
// host_schema.cpp, which hold their defaults, ranges and meanings.
struct ServerSettings {
  std::string host;
  std::uint16_t port = 0;
  int ioThreads = 0;       ///< event loops: threads that wait on connections and read and send
  /// workers: threads that run work which may wait on the database; 0: twice the cores, at most
  /// the storage pool's connections (kWorkersWithoutStorage without a storage plugin)
  int maxThreads = 0;
  int maxQueued = 0;       ///< requests waiting for a worker (one per connection at most); beyond them, 503
  int maxConnections = 0;
  int backlog = 0;
  bool keepAlive = false;
  std::chrono::milliseconds keepAliveTimeout{};
  int maxKeepAliveRequests = 0;  ///< 0: unlimited
  std::chrono::milliseconds receiveTimeout{};
  std::chrono::milliseconds requestTimeout{};  ///< to receive a request's head and body
  /// from a request's first byte to its answer: the deadline of its database work and of its
  /// calls to other services
  std::chrono::milliseconds requestBudget{};
  std::size_t maxHeadBytes = 0;
  std::size_t maxBodyBytes = 0;
  std::chrono::milliseconds drainDelay{};  ///< after SIGTERM: not ready, but still serving
  std::chrono::milliseconds shutdownGrace{};
};

/// The policy of every client of another service (svc::Upstreams), per upstream.
struct UpstreamSettings {
  int maxConnections = 16;  ///< calls in flight at once, each on a thread and connection of its own
  int maxQueued = 1024;     ///< calls waiting for one of those (each within its deadline); beyond them, 503
  int retries = 2;          ///< extra attempts of an idempotent call at most
  int retryBudgetPercent = 20;  ///< retries at most this share of the calls of the last 10 s
  int breakerFailures = 5;  ///< consecutive failed attempts that open the breaker
  std::chrono::milliseconds breakerOpen{500};  ///< how long it stays open before a probe
};

struct LoggingSettings {
  LogFormat format = LogFormat::Json;
  LogLevel level = LogLevel::Info;
  std::string file;      ///< empty: stdout
  std::string rotation;  ///< Poco FileChannel rotation, e.g. "100 M" or "daily"; empty: never
};

/// A plugin named in the .ini: `name` also names its settings section (a route plugin's
/// route.<name>; a storage plugin's library name, e.g. storage-sqlite).
struct PluginRef {
  std::string name;
  std::filesystem::path library;
};

struct HostSettings {
  std::string serviceName;
  std::filesystem::path openApiDocument;  ///< served at /openapi.json; empty: not served
  ServerSettings server;
  UpstreamSettings upstreams;
  LoggingSettings logging;
  std::optional<PluginRef> storage;
  std::vector<PluginRef> routes;
  PoolSettings pool;
  std::vector<std::string> warnings;  ///< deprecated keys in use, logged at start-up
  /// Keys of the host's sections that they do not declare, each with the nearest one that they do
  /// ([storage] aside: see deprecatedStorageKeys), logged at start-up.
  std::vector<std::string> unknownSettings;
  /// Keys of [storage] that are not the pool's: the storage plugin's, read from there (deprecated),
  /// or unknown. Runtime tells which once it has read the plugin's schema.
  std::vector<std::string> deprecatedStorageKeys;
  /// Environment variables that set a key of the storage plugin by its old name, ORDER_SERVICE_STORAGE_<KEY>.
  std::vector<std::string> deprecatedStorageVariables;
};

/// Worker threads when there is no storage plugin and max_threads is 0.
inline constexpr int kWorkersWithoutStorage = 4;

/// The workers `server` asks for, or as many as the pool has connections.
int workerThreads(const ServerSettings& server, const std::optional<PluginRef>& storage, const PoolSettings& pool);

/// The values of a plugin's `section` of `config`, checked against `schema` (svc::SettingError
/// naming the key otherwise), with defaults for the keys it does not set (references such as
/// ${application.dir} expanded). `fallback`: a section whose keys count too when `section` lacks
/// them (the deprecated place of a storage plugin's keys). A key the schema does not know adds
/// a warning naming the nearest known key to `warnings`.
Settings readPluginSettings(const Poco::Util::AbstractConfiguration& config, const std::string& section,
                            SettingsSchema schema, std::vector<std::string>& warnings,
                            const std::string& fallback = "");

/// Whether `schema` declares `key`; a declared route.<name> declares route and every route.x.
bool declares(SettingsSchema schema, std::string_view key);

/// "unknown setting <section>.<key>; did you mean <section>.<nearest key of schema>?"
std::string unknownSetting(const std::string& section, const std::string& key, SettingsSchema schema);

/// The host's own keys of [storage]; any other key there belongs to the storage plugin's section.
bool isHostStorageKey(const std::string& key);

/// The section of the storage plugin `library` (a name or a path): "storage-sqlite" for
/// "storage-sqlite" or "/opt/x/libstorage-sqlite.so".
std::string storageSection(const std::string& library);

/// Reads and checks every key the host uses (see config/order-service.ini).
HostSettings readSettings(const Poco::Util::AbstractConfiguration& config, const std::string& defaultServiceName);

/// A configuration file and the files below it: `file` first, then the file its `[config] base`
/// names (relative to `file`'s folder), and so on. Throws ConfigError for a file that is missing,
/// unreadable, or names itself again.
std::vector<Poco::AutoPtr<Poco::Util::AbstractConfiguration>> readConfigFiles(const std::filesystem::path& file);

/// The name of the environment variable that overrides `key`: "storage.pool_size" with prefix
/// "ORDER_SERVICE" is ORDER_SERVICE_STORAGE_POOL_SIZE; "storage-sqlite.database" is
/// ORDER_SERVICE_STORAGE_SQLITE_DATABASE.
std::string environmentName(const std::string& prefix, const std::string& key);

struct EnvironmentOverrides {
  std::map<std::string, std::string> values;  ///< "section.key" -> value
  /// Variables named ORDER_SERVICE_STORAGE_<KEY> for a key of the storage plugin (its old place).
  std::vector<std::string> deprecated;
  /// Variables with the prefix that name no known section: ignored.
  std::vector<std::string> unmatched;
};

/// What the variables of `environment` (name -> value) starting with `prefix`_ override in
/// `files`: a variable named after a key of the files (environmentName) replaces it; any other
/// names a section (the host's, one of the files', or a loaded plugin's: the longest that
/// matches) and a key, the rest lowercased: ORDER_SERVICE_STORAGE_SQLITE_MAX_PAGE_COUNT is
/// storage-sqlite.max_page_count.
EnvironmentOverrides environmentOverrides(const Poco::Util::AbstractConfiguration& files, const std::string& prefix,
                                          const std::map<std::string, std::string>& environment);

/// Throws ConfigError naming the first key of `file` whose value, read through `config`, still
/// holds a ${reference} to a property that does not exist (POCO leaves those as they are).
void requireResolvedReferences(const Poco::Util::AbstractConfiguration& config,
                               const Poco::Util::AbstractConfiguration& file);

/// "order-service" -> "ORDER_SERVICE".
std::string environmentPrefix(const std::string& serviceName);

}  // namespace svc::host
