#include <gtest/gtest.h>

#include "router.h"

using svc::host::Router;

namespace {

svc::Handler answering(int status) {
  return [status](const svc::Request&) { return svc::Response::json(status, "{}"); };
}

}  // namespace

/// The routes of the orders plugin, and one more under the same prefix.
class OrderRoutes : public testing::Test {
 protected:
  void SetUp() override {
    router.add("GET", "/orders/{id}", answering(200));
    router.add("POST", "/orders", answering(201));
    router.add("POST", "/orders/{id}/cancel", answering(200));
  }
  Router router;
};

TEST_F(OrderRoutes, FindRoutesAndTheirParameters) {
  const auto lookup = router.find("GET", "/orders/42");
  ASSERT_TRUE(lookup.found());
  EXPECT_EQ(lookup.route->pattern, "/orders/{id}");
  ASSERT_EQ(lookup.params.size(), 1u);
  EXPECT_EQ(lookup.params[0], (std::pair<std::string, std::string>{"id", "42"}));
  EXPECT_TRUE(router.find("POST", "/orders").found());
  EXPECT_EQ(router.find("POST", "/orders/42/cancel").params[0].second, "42");
}

TEST_F(OrderRoutes, AnswerHeadWithTheGetRoute) { EXPECT_TRUE(router.find("HEAD", "/orders/1").found()); }

TEST_F(OrderRoutes, ListAllowedMethodsForAKnownPathWithAnotherMethod) {
  const auto lookup = router.find("DELETE", "/orders/7");
  EXPECT_FALSE(lookup.found());
  EXPECT_TRUE(lookup.pathExists());
  EXPECT_EQ(svc::host::joinMethods(lookup.allowedMethods), "GET, HEAD, OPTIONS");
}

TEST(Router, DoesNotKnowOtherPaths) {
  Router router;
  router.add("GET", "/orders/{id}", answering(200));
  router.add("GET", "/", answering(200));
  for (const char* path : {"/order/1", "/orders", "/orders/", "/orders/1/", "/orders/1/x", "//orders/1"}) {
    EXPECT_FALSE(router.find("GET", path).pathExists()) << path;
  }
  EXPECT_TRUE(router.find("GET", "/").found());
}

TEST(Router, PrefersLiteralSegmentsOverParameters) {
  Router router;
  router.add("GET", "/orders/{id}", answering(200));
  router.add("GET", "/orders/stats", answering(299));
  EXPECT_EQ(router.find("GET", "/orders/stats").route->pattern, "/orders/stats");
  EXPECT_EQ(router.find("GET", "/orders/5").route->pattern, "/orders/{id}");
}

TEST(Router, RefusesConflictingOrMalformedRoutes) {
  Router router;
  router.add("GET", "/orders/{id}", answering(200));
  EXPECT_THROW(router.add("GET", "/orders/{number}", answering(200)), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "orders", answering(200)), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/orders/{}", answering(200)), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/orders/{id", answering(200)), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a//b", answering(200)), std::invalid_argument);
  EXPECT_THROW(router.add("get", "/x", answering(200)), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/x", nullptr), std::invalid_argument);
  EXPECT_NO_THROW(router.add("PUT", "/orders/{id}", answering(200)));
}
