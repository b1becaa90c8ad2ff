// docs/users-openapi.json, the document User Service serves: its YAML copy is made from it, it
// gives every routed answer the X-Request-Id header the host adds, and its operations are exactly
// the routes the service assembles from config/user-service.ini.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>

#include "runtime.h"
#include "support/capturing_sink.h"
#include "support/openapi.h"
#include "support/yaml_emitter.h"
#include "user_service_fixture.h"

namespace {

using Operations = std::set<std::pair<std::string, std::string>>;

const std::string kYamlCopy = std::string(ORDER_SERVICE_SOURCE_DIR) + "/docs/users-openapi.yaml";

/// User Service's routes as config/user-service.ini assembles them, and the HEAD and OPTIONS the
/// router answers for them: in this process, not started, on a throwaway SQLite file.
Operations servedOperations() {
  const test_support::TempDir directory;
  Poco::AutoPtr<Poco::Util::MapConfiguration> test = new Poco::Util::MapConfiguration;
  test->setString("application.dir", std::string(ORDER_SERVICE_APP_DIR) + "/");
  test->setString("storage-sqlite.database", (directory.path() / "users.db").string());
  Poco::AutoPtr<Poco::Util::LayeredConfiguration> config = new Poco::Util::LayeredConfiguration;
  config->add(test, -1);  // searched before the files
  const auto files = svc::host::readConfigFiles(std::filesystem::path(ORDER_SERVICE_APP_DIR) / "config/user-service.ini");
  for (std::size_t layer = 0; layer < files.size(); ++layer) config->add(files[layer], static_cast<int>(layer));
  const svc::host::HostSettings settings = svc::host::readSettings(*config, "order-service");
  const svc::Logger quiet("test", svc::LogFormat::Json, svc::LogLevel::Error,
                          std::make_shared<test_support::CapturingSink>());
  const svc::Counter dropped;
  const svc::host::Runtime service(settings, *config, quiet, dropped);

  Operations served;
  for (const svc::host::Route& route : service.router().routes()) {
    served.emplace(route.method, route.pattern);
    served.emplace("OPTIONS", route.pattern);
    if (route.method == "GET") served.emplace("HEAD", route.pattern);
  }
  return served;
}

}  // namespace

// After editing the JSON: USERS_OPENAPI_WRITE_YAML=1 build/tests/users_openapi_tests --gtest_filter=*Yaml*
TEST(UsersOpenApiDocument, YamlCopyIsMadeFromTheJsonSource) {
  const std::string yaml = test_support::toYaml(users_test::usersOpenApiDocument());
  if (std::getenv("USERS_OPENAPI_WRITE_YAML") != nullptr) std::ofstream(kYamlCopy) << yaml;
  std::ifstream copy(kYamlCopy);
  const std::string written((std::istreambuf_iterator<char>(copy)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written, yaml) << "docs/users-openapi.yaml is out of date: USERS_OPENAPI_WRITE_YAML=1 "
                              "build/tests/users_openapi_tests --gtest_filter=*Yaml*";
}

TEST(UsersOpenApiDocument, GivesEveryRoutedAnswerTheRequestIdHeader) {
  const auto misplaced = test_support::misplacedRequestIdHeaders(users_test::usersOpenApiDocument());
  EXPECT_TRUE(misplaced.empty()) << "X-Request-Id wrongly present or missing: " << misplaced.front();
}

TEST(UsersOpenApiDocument, DescribesEveryRouteUserServiceServesAndNoOther) {
  EXPECT_EQ(servedOperations(), test_support::documentedOperations(users_test::usersOpenApiDocument()));
}
