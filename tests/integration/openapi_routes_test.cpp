#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>

#include "runtime.h"
#include "support/capturing_sink.h"
#include "support/openapi.h"
#include "support/test_database.h"

using namespace test_support;

// The routes the service assembles from its configuration (host, orders plugin) are exactly the
// operations docs/openapi.json describes, HEAD and OPTIONS included, which the router adds itself.
TEST(OpenApiRoutes, EveryServedRouteIsDocumentedAndEveryDocumentedOneServed) {
  TempDir directory;
  const auto database = TestDatabase::create(Backend::Sqlite);
  ServiceConfig config(database.get());
  config.remove("plugins.route.echo");  // tests only
  Poco::AutoPtr<Poco::Util::LayeredConfiguration> ini = new Poco::Util::LayeredConfiguration;
  Poco::AutoPtr<Poco::Util::MapConfiguration> application = new Poco::Util::MapConfiguration;
  application->setString("application.dir", std::string(ORDER_SERVICE_APP_DIR) + "/");
  ini->add(application, -1);
  int priority = 0;
  for (const auto& file : svc::host::readConfigFiles(config.write(directory.path()))) ini->add(file, priority++);
  const svc::host::HostSettings settings = svc::host::readSettings(*ini, "order-service");
  const svc::Logger logger("test", svc::LogFormat::Json, svc::LogLevel::Error, std::make_shared<CapturingSink>());
  const svc::Counter logLinesDropped;
  const svc::host::Runtime runtime(settings, *ini, logger, logLinesDropped);

  std::set<std::pair<std::string, std::string>> served;
  for (const svc::host::Route& route : runtime.router().routes()) {
    served.emplace(route.method, route.pattern);
    if (route.method == "GET") served.emplace("HEAD", route.pattern);
    served.emplace("OPTIONS", route.pattern);
  }
  EXPECT_EQ(served, documentedOperations(sourceOpenApiDocument()));
}
