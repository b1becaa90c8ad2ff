#include "support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Statement.h>
#include <Poco/Util/IniFileConfiguration.h>

using namespace Poco::Data::Keywords;

namespace test_support {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "order-service-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Backend backendUnderTest() {
  const char* postgres = std::getenv("TEST_POSTGRES");
  return postgres != nullptr && *postgres != '\0' ? Backend::Postgres : Backend::Sqlite;
}

std::string TestDatabase::migrationsDirectory(const std::string& plugin) const {
  return std::string(ORDER_SERVICE_APP_DIR) + "/migrations/" + plugin + "/" + backendName();
}

std::int64_t TestDatabase::count(const std::string& table, const std::string& sqlWhere) const {
  Poco::Data::Session session = connect();
  Poco::Int64 rows = 0;
  session << "SELECT COUNT(*) FROM " + table + " " + sqlWhere, into(rows), now;
  return rows;
}

void TestDatabase::execute(const std::string& sql) const {
  Poco::Data::Session session = connect();
  session << sql, now;
}

namespace {

class SqliteDatabase final : public TestDatabase {
 public:
  // The folder does not exist until the service creates it (or a test blocks it).
  SqliteDatabase() : file_(directory_.path() / "data" / "test.db") { Poco::Data::SQLite::Connector::registerConnector(); }

  std::string backendName() const override { return "sqlite"; }
  std::string storagePlugin() const override { return "storage-sqlite"; }
  std::map<std::string, std::string> storageSettings() const override { return {{"database", file_.string()}}; }
  std::filesystem::path configFile() const override {
    return std::filesystem::path(ORDER_SERVICE_APP_DIR) / "order-service.ini";
  }
  Poco::Data::Session connect() const override {
    std::filesystem::create_directories(file_.parent_path());
    return Poco::Data::Session("SQLite", file_.string());
  }

 private:
  TempDir directory_;
  std::filesystem::path file_;
};

std::string uniqueDatabaseName() {
  static std::atomic<int> counter{0};
  std::random_device random;
  return "svc_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(random() % 100000);
}

class PostgresDatabase final : public TestDatabase {
 public:
  PostgresDatabase() : admin_(adminConnection()), poolerPort_(poolerPort()), name_(uniqueDatabaseName()) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    // FILE_COPY: a copy of template1's files, 5 times faster than PostgreSQL 15's default of
    // writing each block to the WAL, on a test server without full_page_writes
    Poco::Data::Session(Poco::Data::PostgreSQL::Connector::KEY, admin_)
        << "CREATE DATABASE " + name_ + " STRATEGY = FILE_COPY", now;
  }

  ~PostgresDatabase() override {
    try {
      Poco::Data::Session(Poco::Data::PostgreSQL::Connector::KEY, admin_)
          << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)", now;
    } catch (...) {
      // a leftover database in a throwaway server harms nobody
    }
  }

  std::string backendName() const override { return "postgresql"; }
  std::string storagePlugin() const override { return "storage-postgres"; }
  std::map<std::string, std::string> storageSettings() const override {
    std::map<std::string, std::string> settings{{"connection", connection()}, {"pooler", "none"}};
    if (!poolerPort_.empty()) {
      settings["connection"] += " port=" + poolerPort_;
      settings["pooler"] = "transaction";
    }
    return settings;
  }
  std::filesystem::path configFile() const override {
    return std::filesystem::path(ORDER_SERVICE_APP_DIR) / "config" / "order-service.postgres.ini";
  }
  Poco::Data::Session connect() const override {
    return Poco::Data::Session(Poco::Data::PostgreSQL::Connector::KEY, connection());
  }

 private:
  static std::string adminConnection() {
    const char* admin = std::getenv("TEST_POSTGRES");
    if (admin == nullptr || *admin == '\0') {
      throw std::runtime_error("TEST_POSTGRES is not set: run the PostgreSQL tests through scripts/test.sh");
    }
    const std::string connection = admin;
    return connection.substr(0, connection.find(kPoolerPortKey));
  }
  // The port of a transaction-mode PgBouncer the service connects through, or empty.
  static std::string poolerPort() {
    const std::string connection = std::getenv("TEST_POSTGRES");
    const std::size_t key = connection.find(kPoolerPortKey);
    return key == std::string::npos ? "" : connection.substr(key + std::string(kPoolerPortKey).size());
  }
  static constexpr const char* kPoolerPortKey = " pgbouncer_port=";
  // In a libpq connection string the last value of a key wins.
  std::string connection() const { return admin_ + " dbname=" + name_ + " connect_timeout=2"; }

  std::string admin_;
  std::string poolerPort_;
  std::string name_;
};

}  // namespace

std::unique_ptr<TestDatabase> TestDatabase::create(Backend backend) {
  if (backend == Backend::Postgres) return std::make_unique<PostgresDatabase>();
  return std::make_unique<SqliteDatabase>();
}

RoutePluginUnderTest echoPlugin() { return {"echo", std::string(TEST_PLUGIN_DIR) + "/libtest-echo.so"}; }

ServiceConfig::ServiceConfig(const TestDatabase* database,
                             const std::optional<std::vector<RoutePluginUnderTest>>& routes)
    : base_(database != nullptr ? database->configFile()
                                : std::filesystem::path(ORDER_SERVICE_APP_DIR) / "order-service.ini") {
  sections_["config"] = {{"base", base_.string()}};
  sections_["server"] = {{"host", "127.0.0.1"},        {"port", "0"},
                         {"max_threads", "64"},        {"max_queued", "64"},
                         {"receive_timeout_ms", "5000"}, {"keep_alive_timeout_ms", "5000"},
                         {"max_body_bytes", "16384"},  {"shutdown_grace_ms", "5000"},
                         {"drain_delay_ms", "0"}};
  sections_["logging"] = {{"format", "json"}, {"level", "info"}, {"file", ""}};
  if (database != nullptr) {
    sections_["plugins"]["storage"] = database->storagePlugin();
    sections_[database->storagePlugin()] = database->storageSettings();
    sections_["storage"] = {{"pool_size", "8"}, {"acquire_timeout_ms", "1000"}};
  } else {
    sections_["plugins"]["storage"] = "";
  }
  if (routes) loadOnly(*routes);
  else if (database == nullptr) loadOnly({echoPlugin()});
  else set("plugins.route." + echoPlugin().name, echoPlugin().library);
}

// An empty route.<name> in an overlay unloads the plugin its base, or a base of that, names.
void ServiceConfig::loadOnly(const std::vector<RoutePluginUnderTest>& routes) {
  for (std::filesystem::path file = base_; !file.empty();) {
    Poco::AutoPtr<Poco::Util::AbstractConfiguration> layer = new Poco::Util::IniFileConfiguration(file.string());
    Poco::Util::AbstractConfiguration::Keys shipped;
    layer->keys("plugins.route", shipped);
    for (const std::string& name : shipped) set("plugins.route." + name, "");
    const std::filesystem::path next = layer->getString("config.base", "");
    file = next.empty() || next.is_absolute() ? next : file.parent_path() / next;
  }
  for (const RoutePluginUnderTest& route : routes) {
    set("plugins.route." + route.name, route.library);
    for (const auto& [key, value] : route.settings) set(route.name + "." + key, value);
  }
}

ServiceConfig& ServiceConfig::set(const std::string& key, const std::string& value) {
  const std::size_t dot = key.find('.');
  sections_[key.substr(0, dot)][key.substr(dot + 1)] = value;
  return *this;
}

ServiceConfig& ServiceConfig::remove(const std::string& key) {
  const std::size_t dot = key.find('.');
  sections_[key.substr(0, dot)].erase(key.substr(dot + 1));
  return *this;
}

std::filesystem::path ServiceConfig::write(const std::filesystem::path& directory, const std::string& name) const {
  const std::filesystem::path file = directory / name;
  std::ofstream out(file);
  for (const auto& [section, keys] : sections_) {
    out << "[" << section << "]\n";
    for (const auto& [key, value] : keys) out << key << " = " << value << "\n";
    out << "\n";
  }
  return file;
}

}  // namespace test_support
