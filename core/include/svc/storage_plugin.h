#pragma once

/// What a storage plugin implements: connections to one database backend. The host pools them,
/// enforces each unit of work's deadline, applies the route plugins' migrations, and runs their
/// named statements (svc::Sql) through them. See docs/architecture.md, "Storage plugins".
#include <chrono>
#include <memory>
#include <span>
#include <string>

#include <boost/dll/alias.hpp>

#include <Poco/Data/Session.h>

#include "svc/log.h"
#include "svc/settings.h"
#include "svc/sql.h"
#include "svc/version.h"

namespace svc {

/// StorageConnection::serverSession() of a session whose end cannot be awaited: lost work on it
/// is looked for as soon as the database can be read, and its outcome is unknown when nothing of
/// it is seen.
inline constexpr std::string_view kUnknowableSession = "unknowable";

/// One open connection. Its owner uses it from one thread at a time; only cancel() and sever()
/// come from another thread. Destroying it must not wait on the network: the link may be silent.
class StorageConnection {
 public:
  virtual ~StorageConnection() = default;

  /// The POCO Data session of the connection, for plugins that use POCO's statements directly.
  virtual Poco::Data::Session& session() = 0;
  /// Runs one statement; throws DatabaseError.
  virtual const SqlResult& run(const Statement& statement, std::span<const SqlValue> parameters) = 0;
  /// Runs statements separated by ';', without parameters or rows (migrations, BEGIN, COMMIT);
  /// throws DatabaseError.
  virtual void runScript(std::string_view sql) = 0;
  virtual bool inTransaction() = 0;
  /// The database's name for the server-side session of this connection: what
  /// StorageBackend::awaitEnded is later given. "" when it has none (what it ran was final when
  /// the call returned); kUnknowableSession when one exists that cannot be named (behind a
  /// transaction pooler), so that its end can never be awaited.
  virtual std::string serverSession() = 0;
  /// Whether an idle connection can still be used, without a round trip to the database.
  virtual bool isAlive() = 0;
  /// Asks the database to stop what the connection runs; from another thread, returns at once.
  virtual void cancel() = 0;
  /// Makes whatever waits on the connection fail now (it can then only be destroyed); from
  /// another thread, returns at once.
  virtual void sever() = 0;
};

/// A database backend: opens connections to it.
class StorageBackend {
 public:
  virtual ~StorageBackend() = default;

  /// "sqlite", "postgresql": also the name of the migrations' folder and of svc::Sql's dialects.
  virtual std::string name() const = 0;
  /// Where it connects, safe to log: never a password.
  virtual std::string target() const = 0;
  /// A new connection, ready for statements, within about `timeout`; throws DatabaseError.
  virtual std::unique_ptr<StorageConnection> connect(std::chrono::milliseconds timeout) = 0;
  /// Whether the server-side session `serverSession` (of a connection that was lost) has ended,
  /// so that nothing it ran can still commit, ending it if need be and waiting at most `wait`;
  /// asked over the connection `over`. Throws DatabaseError.
  virtual bool awaitEnded(StorageConnection& over, const std::string& serverSession,
                          std::chrono::milliseconds wait) = 0;
  /// Begins the transaction the host applies migrations in, with a lock that makes other
  /// instances starting at the same time wait until it ends; throws DatabaseError.
  virtual void beginMigrations(StorageConnection& connection) = 0;
};

/// What the host hands a storage plugin's factory.
struct StoragePluginContext {
  std::string name;          ///< the plugin's section, e.g. "storage-sqlite"
  const Settings& settings;  ///< that section, read against the plugin's schema
  const Logger& logger;
  /// [storage] statement_timeout_ms: a backend may also give it to the server (0: none).
  std::chrono::milliseconds statementTimeout;
};

namespace plugin_abi {
using StorageFactory = std::unique_ptr<StorageBackend>(const StoragePluginContext&);
inline constexpr const char* kStorageFactorySymbol = "svc_create_storage_backend";
}  // namespace plugin_abi

}  // namespace svc

/// Exports a storage plugin: `factory` is a function
/// `std::unique_ptr<svc::StorageBackend>(const svc::StoragePluginContext&)`, `settings` a function
/// returning its section's svc::SettingsSchema. Use once, at namespace scope.
#define SVC_STORAGE_PLUGIN(factory, settings)                                \
  BOOST_DLL_ALIAS(svc::plugin_abi::apiVersion, svc_plugin_api_version)      \
  BOOST_DLL_ALIAS(settings, svc_plugin_settings)                            \
  BOOST_DLL_ALIAS(factory, svc_create_storage_backend)
