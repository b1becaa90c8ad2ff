#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include "settings.h"

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
  ASSERT_EQ(settings.routes.size(), 2u);
  EXPECT_EQ(settings.routes[0].name, "extra");
  EXPECT_EQ(settings.routes[0].library, "/elsewhere/libextra.so");
  EXPECT_EQ(settings.routes[1].library, "/opt/svc/plugins/liborders.so");
  EXPECT_EQ(settings.pool.size, 4u);
  EXPECT_EQ(settings.pool.migrationsRoot, "/opt/svc/migrations");
  EXPECT_EQ(settings.pool.schemaPlugins, (std::vector<std::string>{"extra", "orders"}));
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

TEST(Settings, NamesTheKeyOfAnInvalidValue) {
  EXPECT_NE(configErrorOf(*config({{"server.port", "eighty"}})).find("server.port"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.port", "70000"}})).find("server.port"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.max_threads", "0"}})).find("server.max_threads"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.keep_alive", "maybe"}})).find("server.keep_alive"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"logging.format", "xml"}})).find("json, text"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"plugins.storage", "x"}})).find("plugins.directory"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"plugins.storage", "/x/liby.so"}})).find("plugins.migrations"),
            std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"plugins.route.a", " "}})).find("plugins.route.a"), std::string::npos);
  EXPECT_NE(configErrorOf(*config({{"server.host", "${nowhere}"}})), "");
}

TEST(EnvironmentOverrides, NameVariablesAfterTheServiceAndTheKey) {
  EXPECT_EQ(svc::host::environmentPrefix("order-service"), "ORDER_SERVICE");
  EXPECT_EQ(svc::host::environmentName("ORDER_SERVICE", "storage.pool_size"), "ORDER_SERVICE_STORAGE_POOL_SIZE");
  EXPECT_EQ(svc::host::environmentName("ORDER_SERVICE", "plugins.route.orders"), "ORDER_SERVICE_PLUGINS_ROUTE_ORDERS");
}

TEST(EnvironmentOverrides, ReplaceOnlyKeysTheFileHas) {
  const auto file = config({{"server.port", "8080"}, {"storage.connection", "host=a"}, {"plugins.route.orders", "x"}});
  const std::map<std::string, std::string> environment{{"ORDER_SERVICE_SERVER_PORT", "9090"},
                                                       {"ORDER_SERVICE_STORAGE_CONNECTION", "host=db"},
                                                       {"ORDER_SERVICE_SERVER_HOST", "1.2.3.4"}};
  const auto overrides = svc::host::environmentOverrides(*file, "ORDER_SERVICE", [&](const std::string& name) {
    const auto it = environment.find(name);
    return it == environment.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  EXPECT_EQ(overrides, (std::map<std::string, std::string>{{"server.port", "9090"}, {"storage.connection", "host=db"}}));
}
