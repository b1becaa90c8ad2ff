#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Data/Session.h>

namespace svc {

/// One numbered schema change: a file "NNN_description.sql".
struct Migration {
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

/// The migrations of `directory` in version order. Throws MigrationError for a missing folder,
/// a .sql file without a version prefix, or two files with the same version.
std::vector<Migration> findMigrations(const std::filesystem::path& directory);

/// Creates schema_migrations when it is missing and returns the migrations not recorded there.
std::vector<Migration> pendingMigrations(Poco::Data::Session& session, const std::vector<Migration>& migrations);

/// Applies one migration and records it, in the caller's transaction (which holds the backend's
/// migration lock, so that no other instance applies it too). Files must be idempotent (IF NOT
/// EXISTS), so that a schema created by other means (PostgreSQL init scripts) is recorded, not
/// changed. Database failures propagate as Poco exceptions; a file that cannot be read throws
/// MigrationError.
void applyMigration(Poco::Data::Session& session, const Migration& migration);

}  // namespace svc
