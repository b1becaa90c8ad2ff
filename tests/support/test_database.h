#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  /// The storage plugin's name (also its section) and the keys of its section for this database.
  virtual std::string storagePlugin() const = 0;
  virtual std::map<std::string, std::string> storageSettings() const = 0;
  /// The service's configuration file for this backend, in the build's service folder.
  virtual std::filesystem::path configFile() const = 0;
  /// The folder of `plugin`'s migrations for this backend in the built service's migrations root.
  std::string migrationsDirectory(const std::string& plugin) const;
  /// A new direct connection, for assertions.
  virtual Poco::Data::Session connect() const = 0;

  /// The rows of `table` (a name the test gives, with an optional WHERE clause).
  std::int64_t count(const std::string& table, const std::string& sqlWhere = "") const;
  /// Runs a statement that returns nothing.
  void execute(const std::string& sql) const;
};

/// A route plugin for the server under test: `route.<name> = <library>` (a name in the service's
/// plugins folder, or a path) and the keys of its section [<name>].
struct RoutePluginUnderTest {
  std::string name;
  std::string library;
  std::map<std::string, std::string> settings = {};
};

/// The test-only echo plugin (tests/plugins/echo).
RoutePluginUnderTest echoPlugin();

/// An .ini for the server under test: an overlay on the configuration the service ships
/// (order-service.ini, or order-service.postgres.ini above it on PostgreSQL) with the test
/// settings (127.0.0.1, port 0, no drain, a small pool, the test database) and any overrides.
/// It loads the shipped route plugins and echo, or exactly `routes` when given; with no
/// database, no storage and none of the shipped routes. Written into `directory`.
class ServiceConfig {
 public:
  explicit ServiceConfig(const TestDatabase* database,
                         const std::optional<std::vector<RoutePluginUnderTest>>& routes = std::nullopt);
  ServiceConfig& set(const std::string& key, const std::string& value);  ///< "section.key"
  ServiceConfig& remove(const std::string& key);  ///< a key this overlay sets (not one of its base)
  std::filesystem::path write(const std::filesystem::path& directory, const std::string& name = "test.ini") const;

 private:
  void loadOnly(const std::vector<RoutePluginUnderTest>& routes);

  std::filesystem::path base_;
  std::map<std::string, std::map<std::string, std::string>> sections_;
};

}  // namespace test_support
