// What the service answers is what its OpenAPI document says it answers.
#include <gtest/gtest.h>

#include "support/openapi.h"
#include "support/service_fixture.h"

using namespace test_support;

namespace {

class CoreApiDocument : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    startServer();
  }

  /// Sends the request and checks that its status is one the document lists for the operation.
  int expectDocumented(const std::string& method, const std::string& path, const std::string& body = "",
                       const Headers& headers = {{"Content-Type", "application/json"}}) {
    const int status = client().request(method, path, body, headers).status;
    const std::set<int> documented = documentedStatuses(document_, method, path.substr(0, path.find('?')));
    EXPECT_FALSE(documented.empty()) << method << " " << path << " is not documented";
    EXPECT_TRUE(documented.contains(status)) << method << " " << path << " answered " << status << ", undocumented";
    return status;
  }

  svc::json::Value document_;
};

}  // namespace

TEST_F(CoreApiDocument, IsServedAsTheSourceDocument) {
  const HttpResponse response = client().get("/openapi.json");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Content-Type"), "application/json");
  EXPECT_EQ(documentedOperations(response.json()), documentedOperations(sourceOpenApiDocument()));
}

TEST_F(CoreApiDocument, ListsEveryStatusTheServiceAnswers) {
  document_ = client().get("/openapi.json").json();
  const std::string order = R"({"user_id":1,"product_id":2,"quantity":3})";
  for (const std::string prefix : {"/orders", "/api/v1/orders"}) {
    SCOPED_TRACE(prefix);
    EXPECT_EQ(expectDocumented("POST", prefix, order), 201);
    EXPECT_EQ(expectDocumented("POST", prefix, "{"), 400);
    EXPECT_EQ(expectDocumented("POST", prefix, R"({"user_id":0})"), 422);
    EXPECT_EQ(expectDocumented("POST", prefix, order, {{"Content-Type", "text/plain"}}), 415);
    EXPECT_EQ(expectDocumented("POST", prefix, std::string(20000, ' ')), 413);
    EXPECT_EQ(expectDocumented("GET", prefix + "/1"), 200);
    EXPECT_EQ(expectDocumented("HEAD", prefix + "/1"), 200);
    EXPECT_EQ(expectDocumented("GET", prefix + "/99999"), 404);
    EXPECT_EQ(expectDocumented("GET", prefix + "/abc"), 400);
    EXPECT_EQ(expectDocumented("OPTIONS", prefix), 204);
    EXPECT_EQ(expectDocumented("OPTIONS", prefix + "/1"), 204);
    const Headers withKey = {{"Content-Type", "application/json"}, {"Idempotency-Key", "doc" + prefix}};
    EXPECT_EQ(expectDocumented("POST", prefix, order, withKey), 201);
    EXPECT_EQ(expectDocumented("POST", prefix, order, withKey), 201);  // replayed
    EXPECT_EQ(expectDocumented("POST", prefix, R"({"user_id":9,"product_id":9,"quantity":9})", withKey), 422);
    EXPECT_EQ(expectDocumented("POST", prefix, order, {{"Idempotency-Key", "a b"}}), 400);
    EXPECT_EQ(expectDocumented("GET", prefix + "?user_id=1&status=created&limit=1"), 200);
    EXPECT_EQ(expectDocumented("HEAD", prefix), 200);
    EXPECT_EQ(expectDocumented("GET", prefix + "?limit=0"), 400);
    EXPECT_EQ(expectDocumented("GET", prefix + "?user_id=%zz"), 400);
    EXPECT_EQ(expectDocumented("POST", prefix + "/1/cancel"), 200);
    EXPECT_EQ(expectDocumented("POST", prefix + "/99999/cancel"), 404);
    EXPECT_EQ(expectDocumented("POST", prefix + "/abc/cancel"), 400);
    EXPECT_EQ(expectDocumented("OPTIONS", prefix + "/1/cancel"), 204);
  }
  for (const std::string path : {"/health", "/health/ready", "/metrics", "/openapi.json"}) {
    EXPECT_EQ(expectDocumented("GET", path), 200);
    EXPECT_EQ(expectDocumented("HEAD", path), 200);
    EXPECT_EQ(expectDocumented("OPTIONS", path), 204);
  }
}
