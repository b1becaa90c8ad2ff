#include "support/yaml_emitter.h"

#include <cctype>

namespace test_support {

namespace {

using svc::json::Kind;
using svc::json::Value;

bool isScalar(const Value& value) {
  return (value.kind() != Kind::Object && value.kind() != Kind::Array) ||
         (value.kind() == Kind::Object && value.members().empty()) ||
         (value.kind() == Kind::Array && value.items().empty());
}

// Whether `text` reads back as this string when written plain (unquoted).
bool plainIsSafe(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) ||
      std::isspace(static_cast<unsigned char>(text.back()))) {
    return false;
  }
  static const std::string kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(text.front()) != std::string::npos) return false;
  if (text.find(": ") != std::string::npos || text.find(" #") != std::string::npos || text.back() == ':') return false;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20) return false;
  }
  // YAML 1.1 readers (PyYAML among them) also take y/n for booleans and dates for timestamps.
  static const char* kReserved[] = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
                                    "True", "False", "Null", "TRUE", "FALSE", "NULL", "Yes", "No",
                                    "On", "Off", "Y", "N"};
  for (const char* word : kReserved) {
    if (text == word) return false;
  }
  const unsigned char first = static_cast<unsigned char>(text.front());
  return !std::isdigit(first) && first != '.' && first != '+';
}

std::string quoted(const std::string& text) {
  std::string out;
  svc::json::appendQuoted(out, text);  // a JSON string is a YAML double-quoted scalar
  return out;
}

std::string scalar(const Value& value) {
  switch (value.kind()) {
    case Kind::Null: return "null";
    case Kind::Bool: return value.asBool() ? "true" : "false";
    case Kind::Number: return value.text();
    case Kind::String: return plainIsSafe(value.text()) ? value.text() : quoted(value.text());
    case Kind::Array: return "[]";
    case Kind::Object: return "{}";
  }
  return "null";
}

// A string with line breaks as a literal block (|), its final line breaks kept by the chomping indicator.
bool writeBlock(std::string& out, const std::string& text, std::size_t indent) {
  if (text.find('\n') == std::string::npos || text.front() == ' ' || text.find('\r') != std::string::npos ||
      text.find('\t') != std::string::npos) {
    return false;
  }
  std::size_t trailing = 0;
  while (trailing < text.size() && text[text.size() - 1 - trailing] == '\n') ++trailing;
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  const std::string pad(indent, ' ');
  std::size_t start = 0;
  const std::size_t end = text.size() - trailing;
  while (start <= end && start < text.size()) {
    const std::size_t line = std::min(text.find('\n', start), end);
    out += '\n';
    if (line > start) out += pad + text.substr(start, line - start);
    if (line >= end) break;
    start = line + 1;
  }
  for (std::size_t i = 1; i < trailing; ++i) out += '\n';
  out += '\n';
  return true;
}

void writeValue(std::string& out, const Value& value, std::size_t indent);

void writeMembers(std::string& out, const Value& object, std::size_t indent, bool firstInline) {
  bool first = true;
  for (const auto& [key, member] : object.members()) {
    if (!(first && firstInline)) out += std::string(indent, ' ');
    first = false;
    out += plainIsSafe(key) ? key : quoted(key);
    out += ':';
    writeValue(out, member, indent + 2);
  }
}

void writeItems(std::string& out, const Value& array, std::size_t indent) {
  for (const Value& item : array.items()) {
    out += std::string(indent, ' ') + "- ";
    if (item.kind() == Kind::Object && !item.members().empty()) {
      writeMembers(out, item, indent + 2, true);
    } else if (item.kind() == Kind::Array && !item.items().empty()) {
      out += '\n';
      writeItems(out, item, indent + 2);
    } else if (item.kind() != Kind::String || !writeBlock(out, item.text(), indent + 2)) {
      out += scalar(item) + '\n';
    }
  }
}

// After "key:", the value: on the same line when scalar, else on the lines below.
void writeValue(std::string& out, const Value& value, std::size_t indent) {
  if (value.kind() == Kind::String) {
    out += ' ';
    if (!writeBlock(out, value.text(), indent)) out += scalar(value) + '\n';
  } else if (isScalar(value)) {
    out += ' ' + scalar(value) + '\n';
  } else if (value.kind() == Kind::Object) {
    out += '\n';
    writeMembers(out, value, indent, false);
  } else {
    out += '\n';
    writeItems(out, value, indent);
  }
}

}  // namespace

std::string toYaml(const Value& document) {
  std::string out;
  if (document.kind() == Kind::Object && !document.members().empty()) {
    writeMembers(out, document, 0, false);
  } else {
    out = scalar(document) + '\n';
  }
  return out;
}

}  // namespace test_support
