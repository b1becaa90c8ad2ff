// The first byte chooses a parser (even: timestamps, odd: SQL scripts); the rest is its input.
//  - svc::parseTimestamp: a timestamp it accepts, formatted with formatRfc3339Millis, parses
//    again to the same instant truncated (floored) to milliseconds. (It found instants that an
//    offset carried outside years 1..9999, which parseTimestamp now refuses.)
//  - svc::splitSqlScript: no crash, and no statement it returns is blank.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "migrations.h"
#include "svc/timestamp.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void checkTimestamp(std::string_view text) {
  const std::optional<svc::EpochMicros> micros = svc::parseTimestamp(text);
  if (!micros) return;
  // Floor, not truncation toward zero: before 1970 the formatter rounds down too.
  const svc::EpochMicros remainder = ((*micros % 1000) + 1000) % 1000;
  const svc::EpochMicros millis = *micros - remainder;
  const std::string formatted = svc::formatRfc3339Millis(*micros);
  const std::optional<svc::EpochMicros> again = svc::parseTimestamp(formatted);
  if (!again) fail("formatRfc3339Millis wrote what parseTimestamp refuses", std::string(text) + " -> " + formatted);
  if (*again != millis) {
    fail("the timestamp does not survive formatting",
         std::string(text) + " -> " + std::to_string(*micros) + " -> " + formatted + " -> " + std::to_string(*again));
  }
}

void checkSqlScript(std::string_view script) {
  for (const std::string& statement : svc::splitSqlScript(script)) {
    if (std::all_of(statement.begin(), statement.end(), [](unsigned char c) { return std::isspace(c); })) {
      fail("splitSqlScript returned a blank statement", "[" + statement + "]");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) checkTimestamp(rest);
  else checkSqlScript(rest);
  return 0;
}
