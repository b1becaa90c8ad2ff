#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "svc/json.h"
#include "svc/log.h"
#include "svc/timestamp.h"

namespace {

class CapturingSink final : public svc::LogSink {
 public:
  void write(svc::LogLevel, std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

const svc::EpochMicros kNoon = *svc::parseTimestamp("2025-01-01T12:00:00.123Z");

}  // namespace

TEST(Logger, WritesOneJsonObjectPerLineWithTheRequiredFields) {
  const svc::Logger logger("order-service", svc::LogFormat::Json, svc::LogLevel::Info, nullptr);
  const std::string line = logger.format(svc::LogLevel::Info, "Created new order",
                                         {{"order_id", 1}, {"user_id", 123}, {"ok", true}, {"path", "/a b"}}, kNoon);
  EXPECT_EQ(line,
            R"({"timestamp":"2025-01-01T12:00:00.123Z","level":"INFO","message":"Created new order",)"
            R"("service_name":"order-service","order_id":1,"user_id":123,"ok":true,"path":"/a b"})");
  EXPECT_NO_THROW(svc::json::parse(line));
}

TEST(Logger, WritesTheSeedsTextFormat) {
  const svc::Logger logger("order-service", svc::LogFormat::Text, svc::LogLevel::Info, nullptr);
  EXPECT_EQ(logger.format(svc::LogLevel::Info, "Created new order", {{"order_id", 1}, {"user_id", 123}}, kNoon),
            "2025-01-01T12:00:00.123Z INFO Created new order service_name=order-service order_id=1 user_id=123");
  EXPECT_EQ(logger.format(svc::LogLevel::Warning, "two\nlines", {{"reason", "a \"quoted\" = thing"}, {"empty", ""}}, kNoon),
            R"(2025-01-01T12:00:00.123Z WARN two lines service_name=order-service reason="a \"quoted\" = thing" empty="")");
}

TEST(Logger, DropsEventsBelowItsLevel) {
  auto sink = std::make_shared<CapturingSink>();
  const svc::Logger logger("svc", svc::LogFormat::Json, svc::LogLevel::Warning, sink);
  logger.info("quiet");
  logger.debug("quieter");
  logger.warning("loud");
  logger.error("louder", {{"code", 7}});
  ASSERT_EQ(sink->lines.size(), 2u);
  EXPECT_NE(sink->lines[0].find("\"level\":\"WARN\""), std::string::npos);
  EXPECT_NE(sink->lines[1].find("\"code\":7"), std::string::npos);
}
