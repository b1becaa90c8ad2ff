#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "svc/storage_plugin.h"

namespace svc {

/// One numbered schema change of one route plugin: a file "NNN_description.sql", numbered per plugin.
struct Migration {
  std::string plugin;  ///< the schema it changes: a route plugin's (RoutePluginManifest::schema)
  int version = 0;
  std::string name;  ///< the file name
  std::filesystem::path file;
};

/// A migration file that could not be read or applied (not a connection failure).
class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The statements of a SQL script, split at semicolons outside quotes, comments and
/// dollar-quoted bodies; blank statements are dropped.
std::vector<std::string> splitSqlScript(std::string_view script);

/// The statements of a migration's file. Throws MigrationError when it cannot be read.
std::vector<std::string> statementsOf(const Migration& migration);

/// The migrations of `directory` (for `plugin`) in version order. Throws MigrationError for a
/// missing folder, a .sql file without a version prefix, or two files with the same version.
std::vector<Migration> findMigrations(const std::filesystem::path& directory, const std::string& plugin = "");

/// The migrations of every plugin of `plugins` for one backend, by convention in
/// <root>/<plugin>/<backend>/NNN_*.sql (`backend` as StorageBackend::name() says it): plugin by
/// plugin in the given order, each plugin's in version order. A plugin without that folder has no
/// schema. Throws MigrationError when `root` is not a folder or a plugin's folder is invalid.
std::vector<Migration> findPluginMigrations(const std::filesystem::path& root, const std::vector<std::string>& plugins,
                                            const std::string& backend);

struct PendingMigrations {
  std::vector<Migration> pending;  ///< to apply, in order
  std::vector<Migration> adopted;  ///< found applied in the legacy schema_migrations, now recorded
};

/// Creates plugin_migrations (plugin, version, name, applied_at) when it is missing and returns
/// the migrations not recorded there. When some are not, a row of the table releases before
/// per-plugin migrations kept, schema_migrations (version, name), counts as applied for the first
/// of `migrations` with that version and file name, unless plugin_migrations holds that version
/// and name already: it is recorded in plugin_migrations (with its applied_at), not applied
/// again. schema_migrations itself is left as it is. Runs in the caller's transaction, which
/// holds the backend's migration lock.
PendingMigrations pendingMigrations(StorageConnection& connection, const std::vector<Migration>& migrations);

/// Applies one migration and records it in plugin_migrations, in the caller's transaction (which
/// holds the backend's migration lock, so that no other instance applies it too). Files should be
/// idempotent (IF NOT EXISTS) where the backend allows, so that a schema created by other means
/// (PostgreSQL init scripts) is recorded, not changed. Database failures propagate as
/// DatabaseError; a file that cannot be read throws MigrationError.
void applyMigration(StorageConnection& connection, const Migration& migration);

}  // namespace svc
