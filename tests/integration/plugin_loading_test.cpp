#include <gtest/gtest.h>

#include <memory>

#include <Poco/AutoPtr.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Util/MapConfiguration.h>

#include "metrics_registry.h"
#include "plugin_loader.h"
#include "router.h"
#include "upstream_clients.h"
#include "worker_pool.h"
#include "support/capturing_sink.h"
#include "support/test_database.h"

using svc::host::PluginLibraries;
using svc::host::PluginLoadError;
using svc::host::PluginRef;

namespace {

class PluginLoading : public testing::Test {
 protected:
  svc::PluginContext context(const std::string& name) {
    return svc::PluginContext{.name = name,
                              .settings = settings_,
                              .logger = logger_,
                              .metrics = metrics_,
                              .workers = workers_,
                              .upstreams = upstreams_,
                              .storage = nullptr};
  }

  std::string loadError(const std::string& file) {
    try {
      const PluginRef plugin{"probe", std::string(TEST_PLUGIN_DIR) + "/" + file};
      libraries_.routeManifest(plugin);
      libraries_.createRoutePlugin(plugin, context("probe"));
    } catch (const PluginLoadError& error) {
      return error.what();
    }
    return "";
  }

  svc::Settings settings_;
  svc::Logger logger_{"test", svc::LogFormat::Json, svc::LogLevel::Debug,
                      std::make_shared<test_support::CapturingSink>()};
  svc::host::MetricsRegistry metrics_{std::vector<std::string>{}};
  svc::host::WorkerPool workers_{1, 10};
  svc::host::UpstreamClients upstreams_{svc::host::UpstreamSettings{}, logger_};
  PluginLibraries libraries_;  // outlives every plugin object the tests make
};

}  // namespace

TEST_F(PluginLoading, LoadsARoutePluginWhichRegistersWorkingRoutesWithItsSettings) {
  const PluginRef echo{"echo", std::string(TEST_PLUGIN_DIR) + "/libtest-echo.so"};
  const svc::RoutePluginManifest manifest = libraries_.routeManifest(echo);
  EXPECT_EQ(manifest.schema, "echo");
  settings_ = svc::Settings("echo", manifest.settings, {{"greeting", "hi"}});
  auto plugin = libraries_.createRoutePlugin(echo, context("echo"));
  svc::host::Router router;
  plugin->registerRoutes(router);
  const auto lookup = router.find("GET", "/echo/abc");
  ASSERT_TRUE(lookup.found());
  Poco::Net::NameValueCollection headers;
  const svc::Request request("GET", "/echo/abc", "", lookup.route->pattern, lookup.params, headers, "",
                             std::make_shared<const svc::RequestContext>());
  EXPECT_EQ(lookup.route->handler(request).body, R"({"greeting":"hi","word":"abc"})");
}

TEST_F(PluginLoading, RefusesASettingOutsideItsSchema) {
  const PluginRef notes{"notes", std::string(TEST_PLUGIN_DIR) + "/libtest-notes.so"};
  const svc::RoutePluginManifest manifest = libraries_.routeManifest(notes);
  EXPECT_EQ(manifest.schema, "notes");
  try {
    svc::Settings("notes", manifest.settings, {{"max_text_length", "0"}});
    FAIL() << "a value below its range was accepted";
  } catch (const svc::SettingError& error) {
    EXPECT_STREQ(error.what(), "notes.max_text_length must be an integer from 1 to 100000, not \"0\"");
  }
}

TEST_F(PluginLoading, LoadsAStoragePlugin) {
  test_support::TempDir directory;
  const PluginRef sqlite{"storage-sqlite", std::string(ORDER_SERVICE_APP_DIR) + "/plugins/libstorage-sqlite.so"};
  const svc::Settings settings("storage-sqlite", libraries_.storageSettings(sqlite),
                               {{"database", (directory.path() / "x.db").string()}});
  auto backend = libraries_.createStorageBackend(
      sqlite, svc::StoragePluginContext{.name = "storage-sqlite",
                                        .settings = settings,
                                        .logger = logger_,
                                        .statementTimeout = std::chrono::milliseconds(1000)});
  EXPECT_EQ(backend->name(), "sqlite");
  const std::unique_ptr<svc::StorageConnection> connection = backend->connect(std::chrono::milliseconds(1000));
  EXPECT_TRUE(connection->isAlive());
}

TEST_F(PluginLoading, RefusesAMissingFileNamingIt) {
  const std::string error = loadError("libnothing-here.so");
  EXPECT_NE(error.find("libnothing-here.so"), std::string::npos) << error;
  EXPECT_NE(error.find("no such file"), std::string::npos) << error;
}

TEST_F(PluginLoading, RefusesALibraryThatIsNotAPlugin) {
  const std::string error = loadError("libtest-not-a-plugin.so");
  EXPECT_NE(error.find("libtest-not-a-plugin.so"), std::string::npos) << error;
  EXPECT_NE(error.find("not a plugin"), std::string::npos) << error;
}

TEST_F(PluginLoading, RefusesAPluginOfAnotherApiVersionBeforeItsFactoryRuns) {
  const std::string error = loadError("libtest-wrong-version.so");
  EXPECT_NE(error.find("built for plugin API version " + std::to_string(svc::kPluginApiVersion + 1)),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("factory of a plugin of the wrong version was called"), std::string::npos) << error;
}

TEST_F(PluginLoading, RefusesAPluginBuiltForVersion1WhoseContextHadNoMetrics) {
  const std::string error = loadError("libtest-version-1.so");
  EXPECT_NE(error.find("built for plugin API version 1, this host has " + std::to_string(svc::kPluginApiVersion)),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("factory of a plugin of the wrong version was called"), std::string::npos) << error;
}

TEST_F(PluginLoading, ReportsAFactoryThatThrows) {
  const std::string error = loadError("libtest-throwing-factory.so");
  EXPECT_NE(error.find("failed to start: setting x is missing"), std::string::npos) << error;
}

TEST_F(PluginLoading, RefusesAPluginOfTheOtherKind) {
  try {
    libraries_.storageSettings(PluginRef{"storage", std::string(TEST_PLUGIN_DIR) + "/libtest-echo.so"});
    FAIL() << "a route plugin was loaded as storage";
  } catch (const PluginLoadError& error) {
    EXPECT_NE(std::string(error.what()).find("svc_create_storage_backend"), std::string::npos) << error.what();
  }
}
