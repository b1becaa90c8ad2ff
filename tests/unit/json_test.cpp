#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

#include "svc/json.h"

namespace json = svc::json;

TEST(Json, ParsesEveryKindOfValue) {
  const json::Value value = json::parse(R"( {"a": null, "b": true, "c": false, "d": -12.5e3, "e": "x", "f": [1, {}]} )");
  ASSERT_TRUE(value.isObject());
  EXPECT_TRUE(value.find("a")->isNull());
  EXPECT_TRUE(value.find("b")->asBool());
  EXPECT_FALSE(value.find("c")->asBool());
  EXPECT_EQ(value.find("d")->text(), "-12.5e3");
  EXPECT_EQ(value.find("e")->text(), "x");
  ASSERT_EQ(value.find("f")->items().size(), 2u);
  EXPECT_TRUE(value.find("f")->items()[1].isObject());
  EXPECT_EQ(value.find("missing"), nullptr);
}

TEST(Json, KeepsNumbersAsWrittenSoRangeErrorsCanBeReported) {
  const json::Value huge = json::parse("99999999999999999999999");
  EXPECT_TRUE(huge.isIntegerLiteral());
  EXPECT_FALSE(huge.asInt64().has_value());
  EXPECT_EQ(json::parse("-9223372036854775808").asInt64(), INT64_MIN);
  EXPECT_FALSE(json::parse("1.0").isIntegerLiteral());
  EXPECT_FALSE(json::parse("1e2").isIntegerLiteral());
  EXPECT_EQ(json::parse("0").asInt64(), 0);
}

TEST(Json, DecodesEscapesIncludingSurrogatePairs) {
  EXPECT_EQ(json::parse(R"("a\"b\\c\/d\n\t\u00e9\ud83d\ude00")").text(), "a\"b\\c/d\n\t\xC3\xA9\xF0\x9F\x98\x80");
}

class JsonRejects : public testing::TestWithParam<const char*> {};

TEST_P(JsonRejects, MalformedText) { EXPECT_THROW(json::parse(GetParam()), json::ParseError); }

INSTANTIATE_TEST_SUITE_P(Json, JsonRejects,
                         testing::Values("", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "'x'",
                                         "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "tru", "nul",
                                         "{\"a\":1} x", "\"unterminated", "\"\\x\"", "\"\\u12\"",
                                         "\"\\ud83d\"", "\"\\ude00\"", "\"tab\there\"", "\"\xff\"",
                                         "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "{\"a\":1,\"a\":2}"));

TEST(Json, LimitsNesting) {
  const std::string deep = std::string(33, '[') + std::string(33, ']');
  EXPECT_THROW(json::parse(deep), json::ParseError);
  EXPECT_NO_THROW(json::parse(std::string(32, '[') + std::string(32, ']')));
  EXPECT_NO_THROW(json::parse(deep, json::ParseOptions{.maxDepth = 40}));
}

TEST(Json, ReportsWhereParsingStopped) {
  try {
    json::parse("{\"a\": tru}");
    FAIL() << "no exception";
  } catch (const json::ParseError& error) {
    EXPECT_EQ(error.offset(), 6u);
  }
}

TEST(JsonWriter, WritesMembersInOrderWithEscaping) {
  const std::string text = json::ObjectWriter()
                               .add("id", std::int64_t{7})
                               .add("name", "a\"b\n\x01")
                               .add("ok", true)
                               .add("ratio", 0.5)
                               .addRaw("list", "[1,2]")
                               .str();
  EXPECT_EQ(text, R"({"id":7,"name":"a\"b\n\u0001","ok":true,"ratio":0.5,"list":[1,2]})");
  EXPECT_EQ(json::ObjectWriter().str(), "{}");
}

TEST(JsonWriter, ReplacesBytesThatAreNotUtf8SoOutputStaysValid) {
  const std::string text = json::ObjectWriter().add("path", std::string("/a\xff\xc3\xa9")).str();
  EXPECT_EQ(text, "{\"path\":\"/a\\ufffd\xc3\xa9\"}");
  EXPECT_NO_THROW(json::parse(text));
}

TEST(JsonWriter, ReadsBackEveryAsciiCharacterBetweenRunsOfPlainText) {
  std::string text = "plain run, ";
  for (int c = 0; c < 0x80; ++c) text += std::string(1, static_cast<char>(c)) + "run " + std::to_string(c);
  text += "\xc3\xa9 end";
  const std::string written = json::ObjectWriter().add("text", text).str();
  EXPECT_EQ(json::parse(written).find("text")->text(), text);
}

TEST(JsonWriter, NestsArraysObjectsAndNull) {
  json::ArrayWriter items;
  items.add(1).add("two").add(false).add(nullptr).add(json::ObjectWriter().add("k", "v")).add(json::ArrayWriter());
  const std::string text = json::ObjectWriter()
                               .add("items", items)
                               .add("none", nullptr)
                               .add("absent", std::optional<std::string>())
                               .add("present", std::optional<std::string>("x"))
                               .add("inner", json::ObjectWriter().add("n", 2))
                               .str();
  EXPECT_EQ(text, R"({"items":[1,"two",false,null,{"k":"v"},[]],"none":null,"absent":null,"present":"x","inner":{"n":2}})");
  EXPECT_EQ(json::ArrayWriter().str(), "[]");
  EXPECT_NO_THROW(json::parse(text));
}

TEST(JsonReader, ReadsTypedMembers) {
  const json::Value value = json::parse(R"({"n": 42, "big": -9223372036854775808, "s": "text", "b": true, "z": null})");
  json::ObjectReader reader(value);
  EXPECT_EQ(reader.int32("n", 1, 100), 42);
  EXPECT_EQ(reader.int64("big"), INT64_MIN);
  EXPECT_EQ(reader.string("s"), "text");
  EXPECT_EQ(reader.boolean("b"), true);
  EXPECT_TRUE(reader.has("z"));
  EXPECT_FALSE(reader.has("missing"));
  EXPECT_TRUE(reader.errors().empty());
  EXPECT_NO_THROW(reader.finish("unused"));
}

TEST(JsonReader, CollectsEveryFieldErrorAndThrowsInvalidOnceAtTheEnd) {
  const json::Value value = json::parse(R"({"n": 101, "f": 1.5, "s": 3, "b": "yes", "huge": 99999999999999999999})");
  json::ObjectReader reader(value);
  EXPECT_FALSE(reader.int32("n", 1, 100));
  EXPECT_FALSE(reader.int32("f"));
  EXPECT_FALSE(reader.string("s"));
  EXPECT_FALSE(reader.boolean("b"));
  EXPECT_FALSE(reader.int64("huge", 0, 10));
  EXPECT_FALSE(reader.string("missing"));
  try {
    reader.finish("The thing is invalid");
    FAIL() << "no exception";
  } catch (const svc::Invalid& error) {
    EXPECT_EQ(error.title(), "The thing is invalid");
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"/n", "n must be between 1 and 100, not 101"},
        {"/f", "f must be an integer, not 1.5"},
        {"/s", "s must be a string, not a number"},
        {"/b", "b must be a boolean, not a string"},
        {"/huge", "huge must be between 0 and 10, not 99999999999999999999"},
        {"/missing", "missing is required"}};
    ASSERT_EQ(error.errors().size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(error.errors()[i].pointer, expected[i].first);
      EXPECT_EQ(error.errors()[i].detail, expected[i].second);
    }
    EXPECT_EQ(std::string(error.what()).find("n must be between 1 and 100, not 101; f must be"), 0u);
  }
}

TEST(JsonReader, RefusesAValueThatIsNoObjectOnceAndReadsNothing) {
  const json::Value array = json::parse("[1]");
  json::ObjectReader reader(array);
  EXPECT_FALSE(reader.int32("n"));
  ASSERT_EQ(reader.errors().size(), 1u);
  EXPECT_EQ(reader.errors()[0].pointer, "");
  EXPECT_EQ(reader.errors()[0].detail, "the body must be a JSON object, not an array");
  EXPECT_THROW(reader.finish("x"), svc::Invalid);
}
