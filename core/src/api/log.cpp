#include "svc/log.h"

#include "log_sink.h"
#include "svc/context.h"
#include "svc/json.h"
#include "svc/timestamp.h"

namespace svc {

std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "INFO";
    case LogLevel::Warning: return "WARN";
    case LogLevel::Error: return "ERROR";
  }
  return "INFO";
}

namespace {

void appendJsonValue(std::string& out, const LogField::Value& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    json::appendQuoted(out, *text);
  } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    out += std::to_string(*integer);
  } else if (const auto* flag = std::get_if<bool>(&value)) {
    out += *flag ? "true" : "false";
  } else {
    json::appendNumber(out, std::get<double>(value));
  }
}

bool needsQuotes(std::string_view text) {
  if (text.empty()) return true;
  for (const char c : text) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void appendTextValue(std::string& out, const LogField::Value& value) {
  const auto* text = std::get_if<std::string_view>(&value);
  if (text && !needsQuotes(*text)) {
    out += *text;
  } else {
    appendJsonValue(out, value);
  }
}

void appendSingleLine(std::string& out, std::string_view text) {
  for (const char c : text) out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
}

}  // namespace

Logger::Logger(std::string serviceName, LogFormat format, LogLevel minimum, std::shared_ptr<LogSink> sink)
    : serviceName_(std::move(serviceName)), format_(format), minimum_(minimum), sink_(std::move(sink)) {}

void Logger::log(LogLevel level, std::string_view message, LogFields fields) const {
  if (!enabled(level)) return;
  sink_->write(level, format(level, message, fields, nowEpochMicros()));
}

std::string Logger::format(LogLevel level, std::string_view message, LogFields fields,
                           std::int64_t epochMicros) const {
  std::string line;
  line.reserve(160);
  const std::string timestamp = formatRfc3339Millis(epochMicros);
  if (format_ == LogFormat::Json) {
    line += "{\"timestamp\":\"";
    line += timestamp;
    line += "\",\"level\":\"";
    line += toString(level);
    line += "\",\"message\":";
    json::appendQuoted(line, message);
    line += ",\"service_name\":";
    json::appendQuoted(line, serviceName_);
    if (const auto& request = currentRequest()) {
      line += ",\"request_id\":";
      json::appendQuoted(line, request->requestId);
    }
    for (const LogField& field : fields) {
      line += ',';
      json::appendQuoted(line, field.key());
      line += ':';
      appendJsonValue(line, field.value());
    }
    line += '}';
    return line;
  }
  line += timestamp;
  line += ' ';
  line += toString(level);
  line += ' ';
  appendSingleLine(line, message);
  line += " service_name=";
  appendTextValue(line, serviceName_);
  if (const auto& request = currentRequest()) {
    line += " request_id=";
    appendTextValue(line, request->requestId);
  }
  for (const LogField& field : fields) {
    line += ' ';
    line += field.key();
    line += '=';
    appendTextValue(line, field.value());
  }
  return line;
}

}  // namespace svc
