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

#include <Poco/Util/AbstractConfiguration.h>

#include "session_pool.h"
#include "svc/log.h"

namespace svc::host {

/// A missing or invalid setting; the message names the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerSettings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  int ioThreads = 2;       ///< event loops: threads that wait on connections and read and send
  int maxThreads = 256;    ///< workers: threads that run handlers which may wait on the database
  int maxQueued = 10000;   ///< requests waiting for a worker (one per connection at most); beyond them, 503
  int maxConnections = 10000;
  int backlog = 1024;
  bool keepAlive = true;
  std::chrono::milliseconds keepAliveTimeout{10000};
  int maxKeepAliveRequests = 0;  ///< 0: unlimited
  std::chrono::milliseconds receiveTimeout{10000};
  std::chrono::milliseconds requestTimeout{30000};  ///< to receive a request's head and body
  std::size_t maxHeadBytes = 65536;
  std::size_t maxBodyBytes = 16384;
  std::chrono::milliseconds drainDelay{5000};  ///< after SIGTERM: not ready, but still serving
  std::chrono::milliseconds shutdownGrace{10000};
};

struct LoggingSettings {
  LogFormat format = LogFormat::Json;
  LogLevel level = LogLevel::Info;
  std::string file;      ///< empty: stdout
  std::string rotation;  ///< Poco FileChannel rotation, e.g. "100 M" or "daily"; empty: never
};

/// A plugin named in the .ini: `name` also names its settings section.
struct PluginRef {
  std::string name;
  std::filesystem::path library;
};

struct HostSettings {
  std::string serviceName;
  std::filesystem::path openApiDocument;  ///< served at /openapi.json; empty: not served
  ServerSettings server;
  LoggingSettings logging;
  std::optional<PluginRef> storage;
  std::vector<PluginRef> routes;
  PoolSettings pool;
  std::vector<std::string> warnings;  ///< deprecated keys in use, logged at start-up
};

/// Reads and checks every key the host uses (see config/order-service.ini).
HostSettings readSettings(const Poco::Util::AbstractConfiguration& config, const std::string& defaultServiceName);

using EnvironmentLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The name of the environment variable that overrides `key`: "storage.pool_size" with prefix
/// "ORDER_SERVICE" is ORDER_SERVICE_STORAGE_POOL_SIZE.
std::string environmentName(const std::string& prefix, const std::string& key);

/// The keys of `file` that the environment overrides, with their new values.
std::map<std::string, std::string> environmentOverrides(const Poco::Util::AbstractConfiguration& file,
                                                        const std::string& prefix,
                                                        const EnvironmentLookup& lookup);

/// Throws ConfigError naming the first key of `file` whose value, read through `config`, still
/// holds a ${reference} to a property that does not exist (POCO leaves those as they are).
void requireResolvedReferences(const Poco::Util::AbstractConfiguration& config,
                               const Poco::Util::AbstractConfiguration& file);

/// "order-service" -> "ORDER_SERVICE".
std::string environmentPrefix(const std::string& serviceName);

}  // namespace svc::host
