#include "svc/timestamp.h"

#include <chrono>
#include <cstdio>

namespace svc {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yearOfEra = static_cast<unsigned>(year - era * 400);
  const unsigned dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
  return era * 146097 + static_cast<std::int64_t>(dayOfEra) - 719468;
}

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool atEnd() const { return pos_ == text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Reads exactly `digits` decimal digits.
  bool number(int digits, int& value) {
    value = 0;
    for (int i = 0; i < digits; ++i) {
      if (peek() < '0' || peek() > '9') return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return true;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool validDate(int year, int month, int day) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month != 2 || day <= 28 || leap;
}

// Fractional seconds as microseconds; digits beyond the sixth are dropped.
int readFraction(Cursor& in) {
  int micros = 0;
  int digits = 0;
  while (in.peek() >= '0' && in.peek() <= '9') {
    if (digits < 6) micros = micros * 10 + (in.peek() - '0');
    ++digits;
    in.take(in.peek());
  }
  for (; digits < 6; ++digits) micros *= 10;
  return micros;
}

// "Z", "+HH", "+HHMM", "+HH:MM" (or '-'), or nothing (UTC); the offset in seconds east of UTC.
std::optional<int> readOffset(Cursor& in) {
  if (in.atEnd() || in.take('Z') || in.take('z')) return 0;
  const int sign = in.take('+') ? 1 : in.take('-') ? -1 : 0;
  int hours = 0;
  int minutes = 0;
  if (sign == 0 || !in.number(2, hours)) return std::nullopt;
  const bool colon = in.take(':');
  if ((colon || !in.atEnd()) && !in.number(2, minutes)) return std::nullopt;
  if (hours > 23 || minutes > 59) return std::nullopt;
  return sign * (hours * 3600 + minutes * 60);
}

}  // namespace

std::optional<EpochMicros> parseTimestamp(std::string_view text) {
  Cursor in(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!in.number(4, year) || !in.take('-') || !in.number(2, month) || !in.take('-') || !in.number(2, day)) {
    return std::nullopt;
  }
  if (!(in.take('T') || in.take('t') || in.take(' '))) return std::nullopt;
  if (!in.number(2, hour) || !in.take(':') || !in.number(2, minute) || !in.take(':') || !in.number(2, second)) {
    return std::nullopt;
  }
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const int micros = in.take('.') ? readFraction(in) : 0;
  const std::optional<int> offset = readOffset(in);
  if (!offset || !in.atEnd()) return std::nullopt;
  const std::int64_t seconds = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                               hour * 3600 + minute * 60 + second - *offset;
  // An offset can carry the instant out of the years RFC 3339 can write (found by fuzzing).
  static const std::int64_t kFirst = daysFromCivil(1, 1, 1) * 86400;
  static const std::int64_t kAfterLast = daysFromCivil(10000, 1, 1) * 86400;
  if (seconds < kFirst || seconds >= kAfterLast) return std::nullopt;
  return seconds * 1000000 + micros;
}

namespace {

// `value` as `width` digits, zero-padded, from `at` on; where the next field goes.
char* writeDigits(char* at, unsigned value, int width) {
  for (int digit = width - 1; digit >= 0; --digit, value /= 10) at[digit] = static_cast<char>('0' + value % 10);
  return at + width;
}

}  // namespace

// Written digit by digit: it runs for every log line and every timestamp of a response, and
// snprintf took as long as the rest of a log line.
std::string formatRfc3339Millis(EpochMicros micros) {
  using namespace std::chrono;
  const sys_time<microseconds> time{microseconds(micros)};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{floor<milliseconds>(time - day)};
  const int year = static_cast<int>(date.year());
  if (year >= 0 && year <= 9999) {
    std::string text(24, '\0');  // YYYY-MM-DDTHH:MM:SS.mmmZ
    char* at = writeDigits(text.data(), static_cast<unsigned>(year), 4);
    *at++ = '-';
    at = writeDigits(at, static_cast<unsigned>(date.month()), 2);
    *at++ = '-';
    at = writeDigits(at, static_cast<unsigned>(date.day()), 2);
    *at++ = 'T';
    at = writeDigits(at, static_cast<unsigned>(clock.hours().count()), 2);
    *at++ = ':';
    at = writeDigits(at, static_cast<unsigned>(clock.minutes().count()), 2);
    *at++ = ':';
    at = writeDigits(at, static_cast<unsigned>(clock.seconds().count()), 2);
    *at++ = '.';
    at = writeDigits(at, static_cast<unsigned>(clock.subseconds().count()), 3);
    *at = 'Z';
    return text;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long>(clock.hours().count()), static_cast<long>(clock.minutes().count()),
                static_cast<long>(clock.seconds().count()), static_cast<long>(clock.subseconds().count()));
  return buffer;
}

EpochMicros nowEpochMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace svc
