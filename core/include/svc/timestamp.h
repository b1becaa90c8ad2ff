#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace svc {

/// Microseconds since 1970-01-01T00:00:00Z.
using EpochMicros = std::int64_t;

/// Reads a timestamp as databases print it: "2026-01-02 03:04:05.678901+00" (PostgreSQL, any
/// offset), "2026-01-02T03:04:05.678Z" (ISO 8601) or without zone, which is taken as UTC.
/// Nothing for another text, or an instant outside the years 0001 to 9999 UTC.
std::optional<EpochMicros> parseTimestamp(std::string_view text);

/// RFC 3339 in UTC with milliseconds: "2026-01-02T03:04:05.678Z".
std::string formatRfc3339Millis(EpochMicros micros);

EpochMicros nowEpochMicros();

}  // namespace svc
