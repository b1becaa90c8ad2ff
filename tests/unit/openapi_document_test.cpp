#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/openapi.h"
#include "support/yaml_emitter.h"

namespace {

const std::string kDocs = std::string(ORDER_SERVICE_SOURCE_DIR) + "/docs/";

std::string read(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// docs/openapi.json is the source (the service serves and checks it with its own JSON reader);
// docs/openapi.yaml is the same document for YAML readers, made from it.
// After editing the JSON: OPENAPI_WRITE_YAML=1 build/tests/unit_tests --gtest_filter=OpenApiDocument.*
TEST(OpenApiDocument, YamlCopyIsMadeFromTheJsonSource) {
  const std::string yaml = test_support::toYaml(svc::json::parse(read(kDocs + "openapi.json"), {.maxDepth = 64}));
  if (std::getenv("OPENAPI_WRITE_YAML") != nullptr) std::ofstream(kDocs + "openapi.yaml") << yaml;
  EXPECT_EQ(read(kDocs + "openapi.yaml"), yaml)
      << "docs/openapi.yaml is out of date: OPENAPI_WRITE_YAML=1 build/tests/unit_tests --gtest_filter=OpenApiDocument.*";
}

TEST(OpenApiDocument, GivesEveryRoutedAnswerTheRequestIdHeader) {
  const auto misplaced = test_support::misplacedRequestIdHeaders(test_support::sourceOpenApiDocument());
  EXPECT_TRUE(misplaced.empty()) << "X-Request-Id wrongly present or missing: " << misplaced.front();
}
