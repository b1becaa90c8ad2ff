#include "prometheus_text.h"

#include <cctype>
#include <charconv>

namespace svc::host::prometheus {

namespace {

bool isNameStart(unsigned char c) { return std::isalpha(c) || c == '_' || c == ':'; }

// HELP text escapes only backslash and newline; label values also the double quote.
std::string escape(std::string_view text, bool quotes) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') escaped += "\\\\";
    else if (c == '\n') escaped += "\\n";
    else if (c == '"' && quotes) escaped += "\\\"";
    else escaped += c;
  }
  return escaped;
}

void writeName(std::string& out, std::string_view name, std::string_view labels) {
  out += name;
  out += labels;
  out += ' ';
}

}  // namespace

bool isMetricName(std::string_view name) {
  if (name.empty() || !isNameStart(static_cast<unsigned char>(name.front()))) return false;
  for (const char c : name) {
    if (!isNameStart(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void writeFamily(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape(help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void writeSample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  writeName(out, name, labels);
  out += std::to_string(value);
  out += '\n';
}

void writeSample(std::string& out, std::string_view name, std::string_view labels, double value) {
  writeName(out, name, labels);
  out += number(value);
  out += '\n';
}

std::string number(double value) {
  char text[400];  // fixed notation: up to 309 digits before the point for the largest doubles
  const auto written = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  return std::string(text, written.ptr);
}

std::string escapeLabelValue(std::string_view value) { return escape(value, true); }

}  // namespace svc::host::prometheus
