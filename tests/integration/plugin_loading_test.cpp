#include <gtest/gtest.h>

#include <memory>

#include <Poco/AutoPtr.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Util/MapConfiguration.h>

#include "metrics_registry.h"
#include "plugin_loader.h"
#include "router.h"
#include "support/capturing_sink.h"
#include "support/test_database.h"

using svc::host::PluginLibraries;
using svc::host::PluginLoadError;
using svc::host::PluginRef;

namespace {

class PluginLoading : public testing::Test {
 protected:
  svc::PluginContext context(const std::string& name) {
    return svc::PluginContext{.name = name, .config = *section_, .logger = logger_, .metrics = metrics_, .storage = nullptr};
  }

  std::string loadError(const std::string& file) {
    try {
      libraries_.createRoutePlugin(PluginRef{"probe", std::string(TEST_PLUGIN_DIR) + "/" + file}, context("probe"));
    } catch (const PluginLoadError& error) {
      return error.what();
    }
    return "";
  }

  Poco::AutoPtr<Poco::Util::MapConfiguration> section_ = new Poco::Util::MapConfiguration;
  svc::Logger logger_{"test", svc::LogFormat::Json, svc::LogLevel::Debug,
                      std::make_shared<test_support::CapturingSink>()};
  svc::host::MetricsRegistry metrics_{std::vector<std::string>{}};
  PluginLibraries libraries_;  // outlives every plugin object the tests make
};

}  // namespace

TEST_F(PluginLoading, LoadsARoutePluginWhichRegistersWorkingRoutes) {
  section_->setString("greeting", "hi");
  auto plugin = libraries_.createRoutePlugin(PluginRef{"echo", std::string(TEST_PLUGIN_DIR) + "/libtest-echo.so"},
                                             context("echo"));
  svc::host::Router router;
  plugin->registerRoutes(router);
  const auto lookup = router.find("GET", "/echo/abc");
  ASSERT_TRUE(lookup.found());
  Poco::Net::NameValueCollection headers;
  const svc::Request request("GET", "/echo/abc", "", lookup.route->pattern, lookup.params, headers, "");
  EXPECT_EQ(lookup.route->handler(request).body, R"({"greeting":"hi","word":"abc"})");
}

TEST_F(PluginLoading, LoadsAStoragePlugin) {
  test_support::TempDir directory;
  section_->setString("database", (directory.path() / "x.db").string());
  auto backend = libraries_.createStorageBackend(
      PluginRef{"storage", std::string(ORDER_SERVICE_APP_DIR) + "/plugins/libstorage-sqlite.so"}, context("storage"));
  EXPECT_EQ(backend->name(), "sqlite");
  Poco::Data::Session session = backend->connect(std::chrono::milliseconds(1000));
  EXPECT_TRUE(backend->isAlive(session));
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
    libraries_.createStorageBackend(PluginRef{"storage", std::string(TEST_PLUGIN_DIR) + "/libtest-echo.so"},
                                    context("storage"));
    FAIL() << "a route plugin was loaded as storage";
  } catch (const PluginLoadError& error) {
    EXPECT_NE(std::string(error.what()).find("svc_create_storage_backend"), std::string::npos) << error.what();
  }
}
