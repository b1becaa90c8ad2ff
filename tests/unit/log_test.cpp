#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <memory>
#include <string>
#include <vector>

#include "log_sinks.h"
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

namespace {

using namespace std::chrono_literals;
using svc::host::AsyncLogSink;

/// What a test target saw, shared with the test: the writer thread may outlive the sink's owner.
struct Recorded {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;
  bool open = true;     // false: writes wait until it is true again (a stalled pipe)
  bool failing = false;  // true: writes throw (a full disk)

  bool waitForLines(std::size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return lines.size() >= count; });
  }
  void setOpen(bool value) {
    std::lock_guard lock(mutex);
    open = value;
    changed.notify_all();
  }
};

class RecordingTarget final : public svc::host::LineTarget {
 public:
  explicit RecordingTarget(std::shared_ptr<Recorded> recorded) : recorded_(std::move(recorded)) {}
  std::size_t write(std::string_view text) override {
    std::unique_lock lock(recorded_->mutex);
    recorded_->changed.wait(lock, [&] { return recorded_->open; });
    if (recorded_->failing) throw std::runtime_error("No space left on device");
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\n', start)) != std::string_view::npos; start = end + 1) {
      recorded_->lines.emplace_back(text.substr(start, end - start));
    }
    recorded_->changed.notify_all();
    return text.size();
  }

 private:
  std::shared_ptr<Recorded> recorded_;
};

std::unique_ptr<AsyncLogSink> asyncSink(const std::shared_ptr<Recorded>& recorded, AsyncLogSink::Options options) {
  return std::make_unique<AsyncLogSink>(std::make_unique<RecordingTarget>(recorded),
                                        [](std::uint64_t dropped) { return "dropped " + std::to_string(dropped); },
                                        options);
}

}  // namespace

TEST(AsyncLogSink, WritesEveryLineInItsWritersOrder) {
  auto recorded = std::make_shared<Recorded>();
  auto sink = asyncSink(recorded, {.period = 5ms});
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 500; ++i) sink->write(svc::LogLevel::Info, std::to_string(w) + ":" + std::to_string(i));
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_TRUE(recorded->waitForLines(2000)) << "the writer thread wrote everything without being asked";
  std::lock_guard lock(recorded->mutex);
  EXPECT_EQ(recorded->lines.size(), 2000u);
  std::vector<int> next(4, 0);
  for (const std::string& line : recorded->lines) {
    const int writer = line[0] - '0';
    EXPECT_EQ(line.substr(2), std::to_string(next[writer]++));
  }
  EXPECT_EQ(sink->dropped().value(), 0u);
}

TEST(AsyncLogSink, WritesAnErrorWithoutWaitingForThePeriod) {
  auto recorded = std::make_shared<Recorded>();
  auto sink = asyncSink(recorded, {.period = std::chrono::hours(1)});
  sink->write(svc::LogLevel::Info, "before");
  sink->write(svc::LogLevel::Error, "trouble");
  ASSERT_TRUE(recorded->waitForLines(2));
  EXPECT_EQ(recorded->lines[0], "before");
  EXPECT_EQ(recorded->lines[1], "trouble");
}

TEST(AsyncLogSink, DestructionWritesWhatIsQueued) {
  auto recorded = std::make_shared<Recorded>();
  auto sink = asyncSink(recorded, {.period = std::chrono::hours(1)});
  for (int i = 0; i < 100; ++i) sink->write(svc::LogLevel::Info, "line " + std::to_string(i));
  sink.reset();
  ASSERT_EQ(recorded->lines.size(), 100u);
  EXPECT_EQ(recorded->lines[99], "line 99");
}

// A writer that waited for a stalled target would hang here, and ctest's timeout would fail the test.
TEST(AsyncLogSink, DropsAndCountsLinesWhileTheTargetStallsThenSaysHowMany) {
  auto recorded = std::make_shared<Recorded>();
  auto sink = asyncSink(recorded, {.capacityBytes = 1000, .period = 1ms});
  recorded->setOpen(false);
  for (int i = 0; i < 10000; ++i) sink->write(i % 10 ? svc::LogLevel::Info : svc::LogLevel::Error, std::string(50, 'x'));
  const std::uint64_t dropped = sink->dropped().value();
  EXPECT_GT(dropped, 9000u) << "a 1000-byte queue holds fewer than 20 such lines, one batch is held by the target";
  recorded->setOpen(true);
  sink->write(svc::LogLevel::Info, "after");
  ASSERT_TRUE(recorded->waitForLines(1));
  sink->flush();
  std::lock_guard lock(recorded->mutex);
  // Lines say how many were dropped since the one before: on a loaded machine the writer may get
  // through between two of the drops, and then two lines share the count.
  std::uint64_t reported = 0;
  std::size_t notices = 0;
  for (const std::string& line : recorded->lines) {
    if (line.rfind("dropped ", 0) != 0) continue;
    reported += std::stoull(line.substr(8));
    ++notices;
  }
  EXPECT_GE(notices, 1u) << "a line says how many were dropped";
  EXPECT_EQ(reported, sink->dropped().value());
  EXPECT_EQ(recorded->lines.back(), "after");
  EXPECT_EQ(recorded->lines.size() - notices + sink->dropped().value(), 10001u) << "every line was written or counted";
}

TEST(AsyncLogSink, CountsWhatAFailingTargetLosesAndNothingEscapes) {
  auto recorded = std::make_shared<Recorded>();
  auto sink = asyncSink(recorded, {.period = 1ms});
  recorded->failing = true;
  for (int i = 0; i < 5; ++i) {
    sink->write(svc::LogLevel::Error, "lost " + std::to_string(i));
    sink->flush();
  }
  EXPECT_EQ(sink->dropped().value(), 5u);
  {
    std::lock_guard lock(recorded->mutex);
    recorded->failing = false;
  }
  sink->write(svc::LogLevel::Error, "kept");
  ASSERT_TRUE(recorded->waitForLines(2));
  EXPECT_EQ(recorded->lines[0], "dropped 5");
  EXPECT_EQ(recorded->lines[1], "kept");
}

TEST(AsyncLogSink, ShutdownDoesNotWaitForATargetThatNeverReturns) {
  auto recorded = std::make_shared<Recorded>();
  auto sink = asyncSink(recorded, {.period = 1ms, .finalFlushBound = 100ms});
  recorded->setOpen(false);
  sink->write(svc::LogLevel::Error, "stuck");
  std::this_thread::sleep_for(20ms);  // the writer thread is now inside the target
  const auto started = std::chrono::steady_clock::now();
  sink.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  recorded->setOpen(true);  // lets the abandoned writer thread end
}

TEST(DescriptorTarget, GivesUpOnAPipeNobodyReadsWithinItsBound) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  auto target = svc::host::makeDescriptorTarget(ends[1], 50ms);
  const std::string line = std::string(99, 'x') + "\n";
  std::string lots;
  for (int i = 0; i < 2000; ++i) lots += line;  // 200 KB, three times a pipe's buffer
  const auto started = std::chrono::steady_clock::now();
  const std::size_t written = target->write(lots);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_GT(written, 0u);
  EXPECT_LT(written, lots.size());
  target.reset();
  close(ends[0]);
  close(ends[1]);
}
