#include <gtest/gtest.h>

#include "routes/order_representation.h"
#include "services/order_validation.h"
#include "problems.h"
#include "svc/http.h"

namespace {

orders::NewOrder readNewOrder(const std::string& body) {
  return orders::validateNewOrder(orders::readOrderDraft(svc::json::parse(body)));
}

// What a POST /orders with `body` is answered: the problem the host makes of the error.
svc::Problem problemFor(const std::string& body) {
  try {
    readNewOrder(body);
  } catch (const svc::Invalid& error) {
    EXPECT_EQ(svc::errorResponse(error)->status, 422);
    return svc::validationProblem(422, error.title(), error.errors());
  }
  ADD_FAILURE() << "accepted " << body;
  return {};
}

}  // namespace

TEST(OrderValidation, AcceptsPositiveIntegersUpToTheIntegerColumnRange) {
  const auto order = readNewOrder(R"({"user_id":1,"product_id":2147483647,"quantity":3,"note":"x"})");
  EXPECT_EQ(order.userId, 1);
  EXPECT_EQ(order.productId, 2147483647);
  EXPECT_EQ(order.quantity, 3);
}

struct InvalidOrder {
  const char* body;
  const char* pointer;
  const char* detail;
};

class OrderValidationRejects : public testing::TestWithParam<InvalidOrder> {};

TEST_P(OrderValidationRejects, WithA422NamingTheField) {
  const svc::Problem problem = problemFor(GetParam().body);
  EXPECT_EQ(problem.status, 422);
  EXPECT_EQ(problem.type, svc::kValidationProblemType);
  ASSERT_EQ(problem.errors.size(), 1u);
  EXPECT_EQ(problem.errors[0].pointer, GetParam().pointer);
  EXPECT_EQ(problem.errors[0].detail, GetParam().detail);
  EXPECT_EQ(problem.detail, GetParam().detail);
}

INSTANTIATE_TEST_SUITE_P(
    OrderValidation, OrderValidationRejects,
    testing::Values(
        InvalidOrder{R"({"product_id":1,"quantity":1})", "/user_id", "user_id is required"},
        InvalidOrder{R"({"user_id":null,"product_id":1,"quantity":1})", "/user_id", "user_id must be an integer, not null"},
        InvalidOrder{R"({"user_id":1,"product_id":"2","quantity":1})", "/product_id", "product_id must be an integer, not a string"},
        InvalidOrder{R"({"user_id":1,"product_id":2,"quantity":1.5})", "/quantity", "quantity must be an integer, not 1.5"},
        InvalidOrder{R"({"user_id":1,"product_id":2,"quantity":2.0})", "/quantity", "quantity must be an integer, not 2.0"},
        InvalidOrder{R"({"user_id":1,"product_id":2,"quantity":true})", "/quantity", "quantity must be an integer, not a boolean"},
        InvalidOrder{R"({"user_id":1,"product_id":2,"quantity":[2]})", "/quantity", "quantity must be an integer, not an array"},
        InvalidOrder{R"({"user_id":1,"product_id":2,"quantity":0})", "/quantity", "quantity must be between 1 and 2147483647, not 0"},
        InvalidOrder{R"({"user_id":-5,"product_id":2,"quantity":1})", "/user_id", "user_id must be between 1 and 2147483647, not -5"},
        InvalidOrder{R"({"user_id":2147483648,"product_id":2,"quantity":1})", "/user_id", "user_id must be between 1 and 2147483647, not 2147483648"},
        InvalidOrder{R"({"user_id":1,"product_id":99999999999999999999,"quantity":1})", "/product_id", "product_id must be between 1 and 2147483647, not 99999999999999999999"},
        InvalidOrder{R"([1,2,3])", "", "the body must be a JSON object, not an array"},
        InvalidOrder{R"("order")", "", "the body must be a JSON object, not a string"},
        InvalidOrder{R"(null)", "", "the body must be a JSON object, not null"}));

TEST(OrderValidation, ReportsEveryInvalidFieldAtOnce) {
  const svc::Problem problem = problemFor(R"({"user_id":"1","quantity":0})");
  ASSERT_EQ(problem.errors.size(), 3u);
  EXPECT_EQ(problem.errors[0].pointer, "/user_id");
  EXPECT_EQ(problem.errors[1].pointer, "/product_id");
  EXPECT_EQ(problem.errors[2].pointer, "/quantity");
  EXPECT_EQ(problem.detail, "user_id must be an integer, not a string; product_id is required; "
                            "quantity must be between 1 and 2147483647, not 0");
}

// The service holds the rule for callers that do not come through HTTP (a queue consumer).
TEST(OrderValidation, TheServiceRefusesAnOrderOutsideTheRulesWithoutHttp) {
  const auto written = [](std::int64_t value) {
    return std::optional<orders::WrittenNumber>({.text = std::to_string(value), .value = value});
  };
  EXPECT_NO_THROW(orders::validateNewOrder({.userId = written(1), .productId = written(2147483647), .quantity = written(1)}));
  try {
    orders::validateNewOrder({.userId = written(0), .productId = written(1), .quantity = written(-3)});
    ADD_FAILURE() << "accepted";
  } catch (const svc::Invalid& error) {
    ASSERT_EQ(error.errors().size(), 2u);
    EXPECT_EQ(error.errors()[0].pointer, "/user_id");
    EXPECT_EQ(error.errors()[1].detail, "quantity must be between 1 and 2147483647, not -3");
    EXPECT_EQ(error.title(), "The order is invalid");
  }
}
