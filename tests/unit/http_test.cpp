#include <gtest/gtest.h>

#include <Poco/Net/NameValueCollection.h>

#include "problems.h"
#include "svc/http.h"
#include "svc/storage.h"

namespace {

struct FakeRequest {
  Poco::Net::NameValueCollection headers;
  svc::Request make(std::string body, std::string param = "", std::string query = "") {
    return svc::Request("POST", "/things/" + param, std::move(query), "/things/{id}", {{"id", param}}, headers,
                        std::move(body), std::make_shared<const svc::RequestContext>());
  }
};

int statusOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const svc::HttpError& error) {
    return error.problem().status;
  }
  return 0;
}

}  // namespace

TEST(ParseJsonBody, AcceptsJsonWithOrWithoutADeclaredType) {
  FakeRequest request;
  EXPECT_TRUE(svc::parseJsonBody(request.make("{}")).isObject());
  request.headers.set("Content-Type", "application/json");
  EXPECT_TRUE(svc::parseJsonBody(request.make("{}")).isObject());
  request.headers.set("Content-Type", "Application/JSON; charset=UTF-8");
  EXPECT_TRUE(svc::parseJsonBody(request.make("[]")).items().empty());
}

TEST(ParseJsonBody, RefusesOtherMediaTypesWith415) {
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
                           "application/jsonx", "multipart/form-data; boundary=x"}) {
    FakeRequest request;
    request.headers.set("Content-Type", type);
    EXPECT_EQ(statusOf([&] { svc::parseJsonBody(request.make("{}")); }), 415) << type;
  }
}

TEST(ParseJsonBody, RefusesEmptyOrMalformedBodiesWith400) {
  FakeRequest request;
  for (const std::string body : {"", "{", "{\"a\":}", "[1,2", "nope", "{\"a\":1,\"a\":2}"}) {
    EXPECT_EQ(statusOf([&] { svc::parseJsonBody(request.make(body)); }), 400) << body;
  }
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  EXPECT_EQ(statusOf([&] { svc::parseJsonBody(request.make(deep)); }), 400);
}

TEST(PositiveIdParam, AcceptsPositive64BitIntegers) {
  FakeRequest request;
  EXPECT_EQ(svc::positiveIdParam(request.make("", "1"), "id"), 1);
  EXPECT_EQ(svc::positiveIdParam(request.make("", "9223372036854775807"), "id"), INT64_MAX);
  EXPECT_EQ(svc::positiveIdParam(request.make("", "007"), "id"), 7);
}

TEST(PositiveIdParam, RefusesEverythingElseWith400) {
  for (const char* id : {"0", "-1", "+1", "abc", "1.5", "1e3", " 1", "9223372036854775808", "99999999999999999999"}) {
    FakeRequest request;
    EXPECT_EQ(statusOf([&] { svc::positiveIdParam(request.make("", id), "id"); }), 400) << id;
  }
}

TEST(Request, DecodesQueryParametersAndReadsHeadersCaseInsensitively) {
  FakeRequest fake;
  fake.headers.set("X-Thing", "yes");
  const svc::Request request = fake.make("", "1", "a=1&q=hello%20world&b");
  EXPECT_EQ(request.queryParam("q"), "hello world");
  EXPECT_EQ(request.queryParam("b"), "");
  EXPECT_FALSE(request.queryParam("missing"));
  EXPECT_EQ(request.header("x-thing"), "yes");
  EXPECT_FALSE(request.header("X-Other"));
  EXPECT_THROW(request.pathParam("other"), std::out_of_range);
}

TEST(Request, RefusesAMalformedPercentEscapeInTheQueryWith400) {
  FakeRequest fake;
  for (const char* query : {"user_id=%zz", "user_id=1&x=%", "a%2=1"}) {
    SCOPED_TRACE(query);
    const svc::Request request = fake.make("", "1", query);
    EXPECT_EQ(statusOf([&] { request.queryParam("user_id"); }), 400);
  }
}

TEST(Problem, SerializesAsRfc9457WithFieldErrors) {
  const svc::Problem problem{.status = 422,
                             .type = "/problems/validation-error",
                             .title = "Invalid",
                             .detail = "two fields",
                             .errors = {{"/a", "a is required"}, {"/b", "b must be an integer"}}};
  EXPECT_EQ(svc::problemJson(problem),
            R"({"type":"/problems/validation-error","title":"Invalid","status":422,"detail":"two fields",)"
            R"("errors":[{"pointer":"/a","detail":"a is required"},{"pointer":"/b","detail":"b must be an integer"}]})");
  EXPECT_EQ(svc::problemJson(svc::Problem{.status = 404, .detail = "gone"}),
            R"({"type":"about:blank","title":"Not Found","status":404,"detail":"gone"})");
  const svc::Response response = svc::Response::problem(problem);
  EXPECT_EQ(response.contentType, "application/problem+json");
  EXPECT_EQ(response.status, 422);
}

// The one mapping of the domain's errors to what a client reads.
TEST(ErrorResponse, AnswersEachDomainErrorWithItsProblem) {
  using namespace std::chrono_literals;
  const auto header = [](const svc::Response& response, const std::string& name) -> std::string {
    for (const svc::Header& h : response.headers) {
      if (h.name == name) return h.value;
    }
    return "";
  };
  const svc::Response notFound = *svc::errorResponse(svc::NotFound("Order 5 does not exist"));
  EXPECT_EQ(notFound.status, 404);
  EXPECT_EQ(notFound.contentType, "application/problem+json");
  EXPECT_EQ(notFound.body, R"({"type":"about:blank","title":"Not Found","status":404,"detail":"Order 5 does not exist"})");

  const svc::Response invalid =
      *svc::errorResponse(svc::Invalid("The order is invalid", {{"/a", "a is required"}, {"/b", "b is bad"}}));
  EXPECT_EQ(invalid.body,
            R"({"type":"/problems/validation-error","title":"The order is invalid","status":422,)"
            R"("detail":"a is required; b is bad","errors":[{"pointer":"/a","detail":"a is required"},)"
            R"({"pointer":"/b","detail":"b is bad"}]})");
  EXPECT_EQ(svc::errorResponse(svc::Invalid("used for another"))->body,
            R"({"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"used for another"})");

  const svc::Response conflict = *svc::errorResponse(svc::Conflict("busy", 1s));
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(header(conflict, "Retry-After"), "1");
  EXPECT_EQ(header(*svc::errorResponse(svc::Conflict("taken")), "Retry-After"), "");

  const svc::Response unknown = *svc::errorResponse(svc::OutcomeUnknown("may exist"));
  EXPECT_EQ(unknown.status, 503);
  EXPECT_EQ(unknown.body,
            R"({"type":"/problems/outcome-unknown","title":"Outcome unknown","status":503,"detail":"may exist"})");
  EXPECT_EQ(header(*svc::errorResponse(svc::StorageUnavailable("full", "The disk is full", std::chrono::seconds(30))),
                   "Retry-After"),
            "30");
  EXPECT_FALSE(svc::errorResponse(std::runtime_error("a bug")));
}
