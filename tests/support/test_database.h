#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <Poco/Data/Session.h>

namespace test_support {

/// A fresh directory, deleted with everything in it when this goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

enum class Backend { Sqlite, Postgres };

/// The backend this test run is for: PostgreSQL when TEST_POSTGRES holds an admin connection
/// string (libpq key=value), SQLite otherwise. A trailing " pgbouncer_port=N" puts the service
/// (not the tests' own connections) behind the PgBouncer on that port, with pooler = transaction.
Backend backendUnderTest();

/// An empty database of one backend, dropped when this goes, and a way to look into it.
class TestDatabase {
 public:
  static std::unique_ptr<TestDatabase> create(Backend backend);
  virtual ~TestDatabase() = default;

  virtual std::string backendName() const = 0;
  /// The storage plugin's name and [storage] keys for an .ini (without pool and migrations).
  virtual std::string storagePlugin() const = 0;
  virtual std::map<std::string, std::string> storageSettings() const = 0;
  /// The folder of `plugin`'s migrations for this backend in the built service's migrations root.
  std::string migrationsDirectory(const std::string& plugin) const;
  /// A new direct connection, for assertions.
  virtual Poco::Data::Session connect() const = 0;

  std::int64_t count(const std::string& sqlWhere = "") const;
  /// Runs a statement that returns nothing.
  void execute(const std::string& sql) const;
};

/// An .ini for the server under test: the default test settings, a database's [storage], the
/// test-only echo plugin (one line), and any overrides. Written into `directory`.
class ServiceConfig {
 public:
  explicit ServiceConfig(const TestDatabase* database);
  ServiceConfig& set(const std::string& key, const std::string& value);  ///< "section.key"
  ServiceConfig& remove(const std::string& key);
  std::filesystem::path write(const std::filesystem::path& directory, const std::string& name = "test.ini") const;

 private:
  std::map<std::string, std::map<std::string, std::string>> sections_;
};

}  // namespace test_support
