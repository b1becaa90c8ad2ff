#include <gtest/gtest.h>

#include "routes/list_cursor.h"
#include "routes/order_representation.h"
#include "services/order_validation.h"
#include "svc/http.h"

using orders::ListParameters;
using orders::readListParameters;

namespace {

svc::Problem problemFor(const ListParameters& parameters) {
  try {
    readListParameters(parameters);
  } catch (const svc::HttpError& error) {
    return error.problem();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

}  // namespace

TEST(ListCursor, RoundTripsAsBase64UrlWithoutPadding) {
  for (const std::int64_t id : {std::int64_t{1}, std::int64_t{42}, std::int64_t{9223372036854775807}}) {
    const std::string cursor = orders::encodeListCursor(id);
    EXPECT_EQ(cursor.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << cursor;
    EXPECT_EQ(orders::decodeListCursor(cursor), id);
  }
}

TEST(ListCursor, RefusesEveryOtherText) {
  const std::string good = orders::encodeListCursor(42);
  std::string changed = good;
  changed[1] = changed[1] == 'A' ? 'B' : 'A';
  for (const std::string& cursor : {std::string(""), std::string("!!"), good + "=", good + "A", changed,
                                    orders::encodeListCursor(0), std::string("YmVmb3JlOi0x") /* before:-1 */,
                                    std::string("YmVmb3JlOjAx") /* before:01 */, std::string("NDI") /* 42 */}) {
    SCOPED_TRACE(cursor);
    EXPECT_FALSE(orders::decodeListCursor(cursor));
  }
}

TEST(ListParameters, DefaultsToTheNewestTwentyOfAll) {
  const orders::OrderFilter filter = readListParameters({});
  EXPECT_FALSE(filter.userId);
  EXPECT_FALSE(filter.status);
  EXPECT_FALSE(filter.beforeId);
  EXPECT_EQ(filter.limit, 20);
}

TEST(ListParameters, ReadsEveryParameter) {
  const orders::OrderFilter filter = readListParameters(
      {.userId = "7", .status = "cancelled", .limit = "100", .cursor = orders::encodeListCursor(99)});
  EXPECT_EQ(filter.userId, 7);
  EXPECT_EQ(filter.status, "cancelled");
  EXPECT_EQ(filter.limit, 100);
  EXPECT_EQ(filter.beforeId, 99);
}

TEST(ListParameters, NamesEveryInvalidParameterIn400) {
  const svc::Problem problem = problemFor({.userId = "0", .status = "shipped", .limit = "101", .cursor = "x"});
  EXPECT_EQ(problem.status, 400);
  ASSERT_EQ(problem.errors.size(), 4u);
  EXPECT_EQ(problem.errors[0].pointer, "/user_id");
  EXPECT_EQ(problem.errors[1].pointer, "/status");
  EXPECT_EQ(problem.errors[2].pointer, "/limit");
  EXPECT_EQ(problem.errors[3].pointer, "/cursor");
  for (const char* userId : {"", "abc", "-1", "+1", "2147483648", "1.0", " 1"}) {
    SCOPED_TRACE(userId);
    EXPECT_EQ(problemFor({.userId = userId}).status, 400);
  }
  for (const char* limit : {"0", "abc", "1e2", ""}) {
    SCOPED_TRACE(limit);
    EXPECT_EQ(problemFor({.limit = limit}).status, 400);
  }
}

TEST(IdempotencyKey, AcceptsOneTo255VisibleAsciiCharacters) {
  EXPECT_NO_THROW(orders::validateIdempotencyKey("a"));
  EXPECT_NO_THROW(orders::validateIdempotencyKey(std::string(255, '~')));
  EXPECT_NO_THROW(orders::validateIdempotencyKey("8e03978e-40d5-43e8-bc93-6894a57f9324"));
  for (const std::string& key : {std::string(""), std::string(256, 'k'), std::string("a b"), std::string("a\tb"),
                                 std::string("caf\xc3\xa9"), std::string("a\x7f")}) {
    SCOPED_TRACE(key);
    EXPECT_THROW(orders::validateIdempotencyKey(key), svc::HttpError);
  }
}

// The service's own rules for a filter, for callers that build one without a query string.
TEST(ListParameters, TheServiceRefusesAFilterOutsideTheRules) {
  EXPECT_NO_THROW(orders::validateOrderFilter({.limit = 100}));
  for (const orders::OrderFilter& filter : {orders::OrderFilter{.limit = 0}, orders::OrderFilter{.limit = 101},
                                            orders::OrderFilter{.status = "shipped", .limit = 1},
                                            orders::OrderFilter{.userId = 0, .limit = 1},
                                            orders::OrderFilter{.beforeId = 0, .limit = 1}}) {
    EXPECT_THROW(orders::validateOrderFilter(filter), svc::Invalid);
  }
}
