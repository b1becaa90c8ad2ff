#include <gtest/gtest.h>

#include "svc/timestamp.h"

using svc::formatRfc3339Millis;
using svc::parseTimestamp;

TEST(Timestamp, ReadsWhatPostgreSqlPrints) {
  const auto expected = parseTimestamp("2026-01-02T03:04:05.678901Z");
  ASSERT_TRUE(expected);
  EXPECT_EQ(parseTimestamp("2026-01-02 03:04:05.678901+00"), expected);
  EXPECT_EQ(parseTimestamp("2026-01-02 04:04:05.678901+01"), expected);
  EXPECT_EQ(parseTimestamp("2026-01-02 08:34:05.678901+05:30"), expected);
  EXPECT_EQ(parseTimestamp("2026-01-01 22:04:05.678901-05"), expected);
}

TEST(Timestamp, ReadsWhatSqlitePrints) {
  EXPECT_EQ(formatRfc3339Millis(*parseTimestamp("2026-11-24T20:39:22.727Z")), "2026-11-24T20:39:22.727Z");
  EXPECT_EQ(formatRfc3339Millis(*parseTimestamp("2026-11-24 20:39:22")), "2026-11-24T20:39:22.000Z");
}

TEST(Timestamp, FormatsUtcWithMillisecondsTruncated) {
  EXPECT_EQ(formatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339Millis(*parseTimestamp("2024-02-29 23:59:59.999999+00")), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(formatRfc3339Millis(*parseTimestamp("2026-01-01 00:30:00+01")), "2025-12-31T23:30:00.000Z");
}

TEST(Timestamp, RejectsWhatIsNotADate) {
  for (const char* text : {"", "2026-02-30 00:00:00", "2025-02-29 00:00:00", "2026-13-01 00:00:00",
                           "2026-01-01 24:00:00", "2026-01-01", "2026-01-01 00:00:00 +00", "2026-01-01 00:00:00+0x",
                           "26-01-01 00:00:00", "2026-01-01 00:00:00.5Zjunk", "2026-01-01 00:00:60",
                           "2026-01-01 00:00:00+05:", "2026-01-01 00:00:00+0", "9999-12-31 23:59:59-01",
                           "0001-01-01 00:00:00+01"}) {
    EXPECT_FALSE(parseTimestamp(text)) << text;
  }
}

TEST(Timestamp, ReadsTheFirstAndLastInstantsItCanWrite) {
  EXPECT_EQ(formatRfc3339Millis(*parseTimestamp("0001-01-01 00:00:00+00")), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339Millis(*parseTimestamp("9999-12-31 23:59:59.999999Z")), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(formatRfc3339Millis(*parseTimestamp("0001-01-01 00:59:00+00:30")), "0001-01-01T00:29:00.000Z");
}

TEST(Timestamp, NowIsAfter2025) { EXPECT_GT(svc::nowEpochMicros(), *parseTimestamp("2025-01-01T00:00:00Z")); }
