#include "svc/settings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace svc {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trimmed(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::optional<bool> booleanOf(const std::string& text) {
  const std::string value = lower(text);
  if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
  if (value == "false" || value == "no" || value == "off" || value == "0") return false;
  return std::nullopt;
}

bool isChoice(std::string_view choices, const std::string& value) {
  std::size_t start = 0;
  while (start <= choices.size()) {
    const std::size_t end = std::min(choices.find('|', start), choices.size());
    if (choices.substr(start, end - start) == value) return true;
    start = end + 1;
  }
  return false;
}

// The value as the reader keeps it, or SettingError naming what is wrong.
std::string checked(const std::string& section, const Setting& setting, const std::string& written) {
  const std::string name = section + "." + std::string(setting.key);
  const std::string value = trimmed(written);
  switch (setting.type) {
    case Setting::Type::Integer:
    case Setting::Type::Milliseconds: {
      std::int64_t number = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (value.empty() || error != std::errc() || end != value.data() + value.size() || number < setting.min ||
          number > setting.max) {
        throw SettingError(name + " must be an integer from " + std::to_string(setting.min) + " to " +
                           std::to_string(setting.max) + ", not \"" + value + "\"");
      }
      return value;
    }
    case Setting::Type::Boolean:
      if (!booleanOf(value)) throw SettingError(name + " must be true or false, not \"" + value + "\"");
      return value;
    case Setting::Type::Choice: {
      const std::string choice = lower(value);
      if (!isChoice(setting.choices, choice)) {
        std::string allowed;
        for (const char c : setting.choices) allowed += c == '|' ? std::string(", ") : std::string(1, c);
        throw SettingError(name + " must be one of " + allowed + ", not \"" + value + "\"");
      }
      return choice;
    }
    case Setting::Type::Text:
      return value;
  }
  return value;
}

}  // namespace

Settings::Settings(std::string section, SettingsSchema schema, const std::map<std::string, std::string>& values)
    : section_(std::move(section)), schema_(schema) {
  for (const Setting& setting : schema_) {
    const auto written = values.find(std::string(setting.key));
    values_.emplace(std::string(setting.key),
                    checked(section_, setting, written != values.end() ? written->second : std::string(setting.fallback)));
  }
}

const std::string& Settings::value(std::string_view key, Setting::Type type) const {
  const auto declared = std::find_if(schema_.begin(), schema_.end(), [&](const Setting& s) { return s.key == key; });
  const bool textual = type == Setting::Type::Text && declared != schema_.end() && declared->type == Setting::Type::Choice;
  if (declared == schema_.end() || (declared->type != type && !textual)) {
    throw std::logic_error(section_ + "." + std::string(key) + " is not declared as asked for");
  }
  return values_.find(key)->second;
}

std::int64_t Settings::integer(std::string_view key) const {
  const std::string& text = value(key, Setting::Type::Integer);
  std::int64_t number = 0;
  std::from_chars(text.data(), text.data() + text.size(), number);
  return number;
}

std::chrono::milliseconds Settings::millis(std::string_view key) const {
  const std::string& text = value(key, Setting::Type::Milliseconds);
  std::int64_t number = 0;
  std::from_chars(text.data(), text.data() + text.size(), number);
  return std::chrono::milliseconds(number);
}

bool Settings::boolean(std::string_view key) const { return *booleanOf(value(key, Setting::Type::Boolean)); }

const std::string& Settings::text(std::string_view key) const { return value(key, Setting::Type::Text); }

}  // namespace svc
