#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace svc {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 };
enum class LogFormat { Json, Text };

/// One key=value pair of a structured log line. Keys and string values are only viewed:
/// a field lives for the duration of the logging call.
class LogField {
 public:
  using Value = std::variant<std::int64_t, double, bool, std::string_view>;

  LogField(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  LogField(std::string_view key, const char* value) : key_(key), value_(std::string_view(value)) {}
  LogField(std::string_view key, const std::string& value) : key_(key), value_(std::string_view(value)) {}
  LogField(std::string_view key, bool value) : key_(key), value_(value) {}
  LogField(std::string_view key, double value) : key_(key), value_(value) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  LogField(std::string_view key, T value) : key_(key), value_(static_cast<std::int64_t>(value)) {}

  std::string_view key() const { return key_; }
  const Value& value() const { return value_; }

 private:
  std::string_view key_;
  Value value_;
};

using LogFields = std::initializer_list<LogField>;

class LogSink;  ///< where finished lines go: the host's (stdout, a file)

/// Writes one line per event with timestamp (UTC, milliseconds), level, message, service_name,
/// the request_id of the request the thread works for (svc::currentRequest) and the event's
/// fields, as a JSON object or as `2025-01-01T12:00:00.000Z INFO message key=value`.
class Logger {
 public:
  Logger(std::string serviceName, LogFormat format, LogLevel minimum, std::shared_ptr<LogSink> sink);

  bool enabled(LogLevel level) const { return level >= minimum_; }
  void log(LogLevel level, std::string_view message, LogFields fields = {}) const;
  void debug(std::string_view message, LogFields fields = {}) const { log(LogLevel::Debug, message, fields); }
  void info(std::string_view message, LogFields fields = {}) const { log(LogLevel::Info, message, fields); }
  void warning(std::string_view message, LogFields fields = {}) const { log(LogLevel::Warning, message, fields); }
  void error(std::string_view message, LogFields fields = {}) const { log(LogLevel::Error, message, fields); }

  /// The line `log` would write at the given time (microseconds since the Unix epoch).
  std::string format(LogLevel level, std::string_view message, LogFields fields, std::int64_t epochMicros) const;

 private:
  std::string serviceName_;
  LogFormat format_;
  LogLevel minimum_;
  std::shared_ptr<LogSink> sink_;
};

std::string_view toString(LogLevel level);

}  // namespace svc
