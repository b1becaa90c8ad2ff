#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <algorithm>

#include "settings.h"
#include "support/test_database.h"

using svc::host::ConfigError;
using svc::host::readSettings;

namespace {

Poco::AutoPtr<Poco::Util::MapConfiguration> config(std::initializer_list<std::pair<std::string, std::string>> keys) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> map = new Poco::Util::MapConfiguration;
  for (const auto& [key, value] : keys) map->setString(key, value);
  return map;
}

std::string configErrorOf(const Poco::Util::AbstractConfiguration& settings) {
  try {
    readSettings(settings, "svc");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST(Settings, HasDefaultsForEverythingButThePlugins) {
  const auto settings = readSettings(*config({}), "order-service");
  EXPECT_EQ(settings.serviceName, "order-service");
  EXPECT_EQ(settings.server.port, 8080);
  EXPECT_EQ(settings.logging.format, svc::LogFormat::Json);
  EXPECT_FALSE(settings.storage);
  EXPECT_TRUE(settings.routes.empty());
}

// The defaults the host's schema declares are those the host had before it had a schema.
TEST(Settings, KeepsTheDefaultsAndRangesOfTheHostsKeys) {
  const auto settings = readSettings(*config({{"plugins.storage", "/x/liby.so"}, {"plugins.migrations", "/m"}}), "svc");
  const svc::host::ServerSettings& server = settings.server;
  EXPECT_EQ(server.host, "0.0.0.0");
  EXPECT_EQ(server.ioThreads, 2);
  EXPECT_EQ(server.maxThreads, 0);
  EXPECT_EQ(server.maxQueued, 10000);
  EXPECT_EQ(server.maxConnections, 10000);
  EXPECT_EQ(server.backlog, 1024);
  EXPECT_TRUE(server.keepAlive);
  EXPECT_EQ(server.keepAliveTimeout.count(), 10000);
  EXPECT_EQ(server.maxKeepAliveRequests, 0);
  EXPECT_EQ(server.receiveTimeout.count(), 10000);
  EXPECT_EQ(server.requestTimeout.count(), 30000);
  EXPECT_EQ(server.requestBudget.count(), 10000);
  EXPECT_EQ(server.maxHeadBytes, 65536u);
  EXPECT_EQ(server.maxBodyBytes, 16384u);
  EXPECT_EQ(server.drainDelay.count(), 5000);
  EXPECT_EQ(server.shutdownGrace.count(), 10000);
  EXPECT_EQ(settings.logging.level, svc::LogLevel::Info);
  EXPECT_EQ(settings.pool.size, 16u);
  EXPECT_EQ(settings.pool.acquireTimeout.count(), 1000);
  EXPECT_EQ(settings.pool.reconnectBackoff.count(), 250);
  EXPECT_EQ(settings.pool.readyTimeout.count(), 1000);
  EXPECT_EQ(settings.pool.statementTimeout.count(), 5000);
  EXPECT_EQ(configErrorOf(*config({{"server.max_head_bytes", "1023"}})),
            "server.max_head_bytes must be an integer from 1024 to 1048576, not \"1023\"");
  EXPECT_EQ(configErrorOf(*config({{"server.drain_delay_ms", "86400001"}})),
            "server.drain_delay_ms must be an integer from 0 to 86400000, not \"86400001\"");
  EXPECT_EQ(configErrorOf(*config({{"server.request_budget_ms", "0"}})),
            "server.request_budget_ms must be an integer from 1 to 86400000, not \"0\"");
  EXPECT_EQ(configErrorOf(*config({{"logging.level", "loud"}})),
            "logging.level must be one of debug, info, warning, error, not \"loud\"");
}

// As much database work at once as the cores can run, not a worker per pooled connection.
TEST(Settings, SizesTheWorkersByTheCoresAndThePoolUnlessTold) {
  const auto settings = readSettings(*config({{"plugins.storage", "/x/liby.so"}, {"plugins.migrations", "/m"},
                                              {"storage.pool_size", "256"}}), "svc");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(svc::host::workerThreads(settings.server, settings.storage, settings.pool), std::min(2 * cores, 256));
  auto onePooled = settings.pool;
  onePooled.size = 1;
  EXPECT_EQ(svc::host::workerThreads(settings.server, settings.storage, onePooled), 1) << "no more than connections";
  svc::host::ServerSettings told = settings.server;
  told.maxThreads = 64;
  EXPECT_EQ(svc::host::workerThreads(told, settings.storage, settings.pool), 64);
  EXPECT_EQ(svc::host::workerThreads(settings.server, std::nullopt, settings.pool), svc::host::kWorkersWithoutStorage);
}

TEST(Settings, NameAnUnknownKeyOfAHostSectionAndTheNearestKnownOne) {
  auto misspelt = config({{"server.max_thread", "8"}, {"logging.formt", "text"}, {"config.bases", "a.ini"}});
  misspelt->setString("plugins.route.orders", "/x/liborders.so");
  const auto settings = readSettings(*misspelt, "svc");
  EXPECT_EQ(settings.unknownSettings, (std::vector<std::string>{
                                          "unknown setting server.max_thread; did you mean server.max_threads?",
                                          "unknown setting logging.formt; did you mean logging.format?",
                                          "unknown setting config.bases; did you mean config.base?"}));
  EXPECT_EQ(settings.server.maxThreads, 0) << "an unknown key sets nothing";
  EXPECT_EQ(settings.routes.size(), 1u) << "route.<name> declares every route.x";
}

TEST(Settings, ResolvesPluginNamesInThePluginDirectory) {
  const auto settings = readSettings(*config({{"plugins.directory", "/opt/svc/plugins"},
                                              {"plugins.storage", "storage-sqlite"},
                                              {"plugins.route.orders", "orders"},
                                              {"plugins.route.extra", "/elsewhere/libextra.so"},
                                              {"plugins.migrations", "/opt/svc/migrations"},
                                              {"storage.pool_size", "4"}}),
                                     "svc");
  ASSERT_TRUE(settings.storage);
  EXPECT_EQ(settings.storage->library, "/opt/svc/plugins/libstorage-sqlite.so");
  EXPECT_EQ(settings.storage->name, "storage-sqlite");
  EXPECT_TRUE(settings.deprecatedStorageKeys.empty());
  ASSERT_EQ(settings.routes.size(), 2u);
  EXPECT_EQ(settings.routes[0].name, "extra");
  EXPECT_EQ(settings.routes[0].library, "/elsewhere/libextra.so");
  EXPECT_EQ(settings.routes[1].library, "/opt/svc/plugins/liborders.so");
  EXPECT_EQ(settings.pool.size, 4u);
  EXPECT_EQ(settings.pool.migrationsRoot, "/opt/svc/migrations");
  EXPECT_TRUE(settings.warnings.empty());
}

// An .ini written before migrations were per plugin named one backend's folder in [storage].
TEST(Settings, TakesTheRootOfMigrationsFromTheDeprecatedStorageKey) {
  for (const std::string folder : {"/usr/share/svc/migrations/postgres", "/usr/share/svc/migrations/postgres/"}) {
    const auto settings = readSettings(
        *config({{"plugins.storage", "/x/liby.so"}, {"storage.migrations", folder}}), "svc");
    EXPECT_EQ(settings.pool.migrationsRoot, "/usr/share/svc/migrations") << folder;
    ASSERT_EQ(settings.warnings.size(), 1u);
    EXPECT_NE(settings.warnings[0].find("plugins.migrations = /usr/share/svc/migrations"), std::string::npos)
        << settings.warnings[0];
  }
  const auto both = readSettings(*config({{"plugins.storage", "/x/liby.so"},
                                          {"plugins.migrations", "/opt/svc/migrations"},
                                          {"storage.migrations", "/old/migrations/sqlite"}}),
                                 "svc");
  EXPECT_EQ(both.pool.migrationsRoot, "/opt/svc/migrations");
  ASSERT_EQ(both.warnings.size(), 1u);
  EXPECT_NE(both.warnings[0].find("storage.migrations is ignored"), std::string::npos);
}

TEST(Settings, AnEmptyRouteLibraryLoadsNothing) {  // how an overlay unloads a plugin of its base
  EXPECT_TRUE(readSettings(*config({{"plugins.route.orders", " "}}), "svc").routes.empty());
}

TEST(Settings, NamesTheKeyOfAnInvalidValue) {
  EXPECT_NE(configErrorOf(*config({{"server.port", "eighty"}})).find("server.port"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.port", "70000"}})).find("server.port"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.max_threads", "-1"}})).find("server.max_threads"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.keep_alive", "maybe"}})).find("server.keep_alive"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"logging.format", "xml"}})).find("json, text"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"plugins.storage", "x"}})).find("plugins.directory"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"plugins.storage", "/x/liby.so"}})).find("plugins.migrations"),
            std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.host", "${nowhere}"}})), "");
}

TEST(Settings, ReadsTheUpstreamPolicyWithDefaultsThatRecoverWithinASecond) {
  const auto defaults = readSettings(*config({}), "svc").upstreams;
  EXPECT_EQ(defaults.maxConnections, 16);
  EXPECT_EQ(defaults.retries, 2);
  EXPECT_LT(defaults.breakerOpen.count(), 1000);
  const auto upstreams = readSettings(*config({{"upstreams.max_connections", "4"},
                                               {"upstreams.max_queued", "0"},
                                               {"upstreams.retries", "0"},
                                               {"upstreams.retry_budget_percent", "50"},
                                               {"upstreams.breaker_failures", "2"},
                                               {"upstreams.breaker_open_ms", "250"}}),
                                     "svc")
                             .upstreams;
  EXPECT_EQ(upstreams.maxConnections, 4);
  EXPECT_EQ(upstreams.maxQueued, 0);
  EXPECT_EQ(upstreams.retries, 0);
  EXPECT_EQ(upstreams.retryBudgetPercent, 50);
  EXPECT_EQ(upstreams.breakerFailures, 2);
  EXPECT_EQ(upstreams.breakerOpen.count(), 250);
  EXPECT_NE(configErrorOf(*config({{"upstreams.max_connections", "0"}})).find("upstreams.max_connections"),
            std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"upstreams.retry_budget_percent", "101"}})).find("retry_budget_percent"),
            std::string::npos);
  const auto overrides = svc::host::environmentOverrides(*config({}), "ORDER_SERVICE",
                                                         {{"ORDER_SERVICE_UPSTREAMS_BREAKER_OPEN_MS", "300"}});
  EXPECT_EQ(overrides.values, (std::map<std::string, std::string>{{"upstreams.breaker_open_ms", "300"}}));
}

TEST(EnvironmentOverrides, NameVariablesAfterTheServiceAndTheKey) {
  EXPECT_EQ(svc::host::environmentPrefix("order-service"), "ORDER_SERVICE");
  EXPECT_EQ(svc::host::environmentName("ORDER_SERVICE", "storage.pool_size"), "ORDER_SERVICE_STORAGE_POOL_SIZE");
  EXPECT_EQ(svc::host::environmentName("ORDER_SERVICE", "plugins.route.orders"), "ORDER_SERVICE_PLUGINS_ROUTE_ORDERS");
}

TEST(EnvironmentOverrides, SetAnyKeyOfAKnownSectionEvenOneTheFileLeavesOut) {
  const auto files = config({{"server.port", "8080"},
                             {"plugins.storage", "storage-sqlite"},
                             {"plugins.route.orders", "x"},
                             {"plugins.route.echo", "/t/libtest-echo.so"},
                             {"storage-sqlite.database", "a.db"}});
  const auto overrides = svc::host::environmentOverrides(*files, "ORDER_SERVICE",
                                                         {{"ORDER_SERVICE_SERVER_PORT", "9090"},
                                                          {"ORDER_SERVICE_SERVER_MAX_BODY_BYTES", "1024"},
                                                          {"ORDER_SERVICE_PLUGINS_ROUTE_ORDERS", "y"},
                                                          {"ORDER_SERVICE_STORAGE_POOL_SIZE", "4"},
                                                          {"ORDER_SERVICE_STORAGE_SQLITE_MAX_PAGE_COUNT", "64"},
                                                          {"ORDER_SERVICE_ECHO_GREETING", "bonjour"},
                                                          {"ORDER_SERVICE_ORDERS_MAX_BATCH", "8"},
                                                          {"OTHER_SERVICE_SERVER_PORT", "1"},
                                                          {"PATH", "/bin"}});
  EXPECT_EQ(overrides.values, (std::map<std::string, std::string>{{"server.port", "9090"},
                                                                  {"server.max_body_bytes", "1024"},
                                                                  {"plugins.route.orders", "y"},
                                                                  {"storage.pool_size", "4"},
                                                                  {"storage-sqlite.max_page_count", "64"},
                                                                  {"echo.greeting", "bonjour"},
                                                                  {"orders.max_batch", "8"}}));
  EXPECT_TRUE(overrides.deprecated.empty());
  EXPECT_TRUE(overrides.unmatched.empty());
}

TEST(EnvironmentOverrides, LoadARoutePluginTheFileDoesNotName) {
  const auto overrides = svc::host::environmentOverrides(*config({{"plugins.route.orders", "orders"}}), "ORDER_SERVICE",
                                                         {{"ORDER_SERVICE_PLUGINS_ROUTE_NOTES", "notes"}});
  EXPECT_EQ(overrides.values, (std::map<std::string, std::string>{{"plugins.route.notes", "notes"}}));
}

TEST(EnvironmentOverrides, ReportVariablesThatNameNoSection) {
  const auto overrides = svc::host::environmentOverrides(
      *config({{"server.port", "8080"}}), "ORDER_SERVICE",
      {{"ORDER_SERVICE_SERVR_PORT", "1"}, {"ORDER_SERVICE_ECHO_GREETING", "hi"}, {"ORDER_SERVICE_SERVER_", "1"}});
  EXPECT_TRUE(overrides.values.empty());
  EXPECT_EQ(overrides.unmatched, (std::vector<std::string>{"ORDER_SERVICE_ECHO_GREETING", "ORDER_SERVICE_SERVER_",
                                                           "ORDER_SERVICE_SERVR_PORT"}));
}

TEST(EnvironmentOverrides, MoveAStorageKeyOfTheOldNameToThePluginSection) {
  const auto files = config({{"plugins.storage", "storage-postgres"}, {"storage-postgres.connection", "host=a"}});
  const auto old = svc::host::environmentOverrides(*files, "ORDER_SERVICE",
                                                   {{"ORDER_SERVICE_STORAGE_CONNECTION", "host=db"},
                                                    {"ORDER_SERVICE_STORAGE_STATEMENT_TIMEOUT_MS", "100"}});
  EXPECT_EQ(old.values, (std::map<std::string, std::string>{{"storage-postgres.connection", "host=db"},
                                                            {"storage.statement_timeout_ms", "100"}}));
  EXPECT_EQ(old.deprecated, std::vector<std::string>{"ORDER_SERVICE_STORAGE_CONNECTION"});

  const auto both = svc::host::environmentOverrides(*files, "ORDER_SERVICE",
                                                    {{"ORDER_SERVICE_STORAGE_CONNECTION", "host=old"},
                                                     {"ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION", "host=new"}});
  EXPECT_EQ(both.values, (std::map<std::string, std::string>{{"storage-postgres.connection", "host=new"}}));
}

TEST(Settings, ReportBackendKeysLeftInTheHostStorageSection) {
  const auto settings = readSettings(*config({{"plugins.storage", "/x/libstorage-postgres.so"},
                                              {"storage.migrations", "/m"},
                                              {"storage.pool_size", "4"},
                                              {"storage.connection", "host=a"}}),
                                     "svc");
  ASSERT_TRUE(settings.storage);
  EXPECT_EQ(settings.storage->name, "storage-postgres");
  EXPECT_EQ(settings.deprecatedStorageKeys, std::vector<std::string>{"connection"});
}

namespace {

void writeFile(const std::filesystem::path& file, const std::string& text) { std::ofstream(file) << text; }

}  // namespace

TEST(ConfigFiles, AnOverlayStacksOnTheBaseItNames) {
  const test_support::TempDir directory;
  std::filesystem::create_directories(directory.path() / "base");
  writeFile(directory.path() / "base" / "main.ini", "[server]\nport = 1\nhost = a\n");
  writeFile(directory.path() / "overlay.ini", "[config]\nbase = base/main.ini\n[server]\nport = 2\n");
  const auto files = svc::host::readConfigFiles(directory.path() / "overlay.ini");
  ASSERT_EQ(files.size(), 2u);
  Poco::AutoPtr<Poco::Util::LayeredConfiguration> layered = new Poco::Util::LayeredConfiguration;
  for (std::size_t i = 0; i < files.size(); ++i) layered->add(files[i], static_cast<int>(i));
  EXPECT_EQ(layered->getString("server.port"), "2");
  EXPECT_EQ(layered->getString("server.host"), "a");
}

TEST(ConfigFiles, AMissingOrCircularBaseIsAConfigurationError) {
  const test_support::TempDir directory;
  writeFile(directory.path() / "overlay.ini", "[config]\nbase = nowhere.ini\n");
  writeFile(directory.path() / "loop.ini", "[config]\nbase = loop.ini\n");
  try {
    svc::host::readConfigFiles(directory.path() / "overlay.ini");
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("nowhere.ini does not exist (config.base of "), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(svc::host::readConfigFiles(directory.path() / "loop.ini"), ConfigError);
}
