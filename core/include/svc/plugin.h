#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/dll/alias.hpp>

#include <Poco/Data/Session.h>
#include <Poco/Exception.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "svc/log.h"
#include "svc/metrics.h"
#include "svc/routes.h"
#include "svc/storage.h"
#include "svc/version.h"

namespace svc {

/// What the host hands a plugin's factory.
struct PluginContext {
  std::string name;                                 ///< the plugin's name in the .ini
  const Poco::Util::AbstractConfiguration& config;  ///< the plugin's own .ini section
  const Logger& logger;
  Metrics& metrics;            ///< counters the host serves at GET /metrics
  Storage* storage = nullptr;  ///< the storage plugin's sessions; null when none is configured

  /// The storage, or an exception explaining that this plugin needs one.
  Storage& requireStorage() const;

  /// The integer setting `key` of this plugin's section, or `fallback` when it is absent;
  /// std::invalid_argument naming "<name>.<key>" when it is not an integer from min to max.
  int intSetting(const std::string& key, int fallback, int min, int max) const;
};

/// A plugin that serves HTTP routes.
class RoutePlugin {
 public:
  virtual ~RoutePlugin() = default;
  virtual void registerRoutes(RouteRegistry& routes) = 0;
};

/// How a storage failure should be answered.
enum class StorageFailure {
  ConnectionLost,   ///< the session is unusable; the statement may not have run
  Busy,             ///< the database is alive but could not serve in time (lock, serialization)
  UniqueViolation,  ///< a UNIQUE constraint refused the row
  OutOfDiskSpace,   ///< the database's disk is full (reads still work)
  DiskIoError,      ///< the database's disk fails to read or write; the session is closed
  OutOfMemory,      ///< the database server is out of memory
  Other,            ///< a bug or a schema problem
};

/// A plugin that opens sessions to one database backend. The host pools them, applies the
/// migrations and hands the pool to route plugins as a `Storage`.
class StorageBackend {
 public:
  virtual ~StorageBackend() = default;

  /// Names the backend ("sqlite", "postgresql").
  virtual std::string name() const = 0;
  /// Where it connects, safe to log: never a password.
  virtual std::string target() const = 0;
  /// Opens and configures a new session, giving up after about `timeout` where the backend can
  /// bound the wait; throws a Poco::Exception when the database cannot be reached, or
  /// StorageUnavailable(DatabaseShortage::...) when it refuses for want of a resource (connections).
  virtual Poco::Data::Session connect(std::chrono::milliseconds timeout) = 0;
  /// The database's name for the server-side session of a newly opened `session` ("" when it
  /// has none): what awaitEnded is later given to recognise it.
  virtual std::string identify(Poco::Data::Session& session) const = 0;
  /// Asks the database to stop what `session` is running. Called from another thread than the
  /// one running on the session, when its deadline nears; must return at once.
  virtual void cancel(Poco::Data::Session& session) const = 0;
  /// Makes whatever waits on `session` fail now (e.g. shuts its socket), so that the session can
  /// only be closed. Called from another thread at the deadline; must return at once.
  virtual void sever(Poco::Data::Session& session) const = 0;
  /// Called before the pool destroys `session` for good; returns what to run once it is
  /// destroyed (e.g. free what the driver leaks for a broken connection), or an empty function.
  /// Neither this nor the destruction may wait on the network: the link may have gone silent.
  virtual std::function<void()> closing(Poco::Data::Session& session) const = 0;
  /// Whether the server-side session `identity` has ended (so that nothing it ran can still
  /// commit), ending it if need be, waiting at most `wait`; checked over `session`.
  virtual bool awaitEnded(Poco::Data::Session& session, const std::string& identity,
                          std::chrono::milliseconds wait) const = 0;
  /// Whether an idle session can still be used, without a round trip to the database.
  virtual bool isAlive(Poco::Data::Session& session) const = 0;
  /// Classifies a failure of a statement run on `session`.
  virtual StorageFailure classify(const Poco::Exception& failure, Poco::Data::Session& session) const = 0;

  /// Called when a lease of `session` starts. Returns true when the backend opened a transaction
  /// for the whole lease (behind a transaction-mode pooler such as PgBouncer, where only a
  /// transaction keeps one server connection): the host then drops the lease's prepared
  /// statements before it ends, and ends it with `endLeaseTransaction`. Throws a Poco::Exception
  /// when the session is unusable.
  virtual bool beginLease(Poco::Data::Session& /*session*/) { return false; }
  /// Commits (`commit`) or rolls back the transaction `beginLease` opened, if still open; throws
  /// a Poco::Exception when the commit fails.
  virtual void endLeaseTransaction(Poco::Data::Session& /*session*/, bool /*commit*/) {}

  /// Begins the transaction the host applies migrations in, holding a lock that makes other
  /// instances starting at the same time wait until it ends (so each migration runs once).
  virtual void beginMigrations(Poco::Data::Session& session) = 0;
  /// Commits or rolls back what beginMigrations began; throws a Poco::Exception when that fails.
  virtual void endMigrations(Poco::Data::Session& session, bool commit) = 0;
};

/// The symbols every plugin exports, read by the host through Boost.DLL.
namespace plugin_abi {
using VersionFunction = int();
using RouteFactory = std::unique_ptr<RoutePlugin>(const PluginContext&);
using StorageFactory = std::unique_ptr<StorageBackend>(const PluginContext&);
inline constexpr const char* kVersionSymbol = "svc_plugin_api_version";
inline constexpr const char* kRouteFactorySymbol = "svc_create_route_plugin";
inline constexpr const char* kStorageFactorySymbol = "svc_create_storage_backend";

inline int apiVersion() { return kPluginApiVersion; }
}  // namespace plugin_abi

}  // namespace svc

/// Exports a route plugin. `factory` is a function `std::unique_ptr<svc::RoutePlugin>(const svc::PluginContext&)`.
/// Use once, at namespace scope, in one source file of the plugin.
#define SVC_ROUTE_PLUGIN(factory)                                        \
  BOOST_DLL_ALIAS(svc::plugin_abi::apiVersion, svc_plugin_api_version) \
  BOOST_DLL_ALIAS(factory, svc_create_route_plugin)

/// Exports a storage plugin. `factory` is a function
/// `std::unique_ptr<svc::StorageBackend>(const svc::PluginContext&)`.
#define SVC_STORAGE_PLUGIN(factory)                                      \
  BOOST_DLL_ALIAS(svc::plugin_abi::apiVersion, svc_plugin_api_version) \
  BOOST_DLL_ALIAS(factory, svc_create_storage_backend)
