#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace svc {

/// One key of an .ini section, declared once: what it is, its default, its range and what it
/// means. The reader, `--help`, the docs' tables and the shipped .ini's comments all come from it.
struct Setting {
  enum class Type { Integer, Milliseconds, Boolean, Text, Choice };

  std::string_view key;
  Type type = Type::Text;
  std::string_view fallback;  ///< the default, as written in an .ini
  std::int64_t min = 0;       ///< Integer and Milliseconds only
  std::int64_t max = 0;
  std::string_view choices;  ///< Choice only: the allowed values, separated by '|'
  std::string_view meaning;  ///< one line

  static constexpr Setting integer(std::string_view key, std::string_view fallback, std::int64_t min, std::int64_t max,
                                   std::string_view meaning) {
    return Setting{key, Type::Integer, fallback, min, max, {}, meaning};
  }
  static constexpr Setting millis(std::string_view key, std::string_view fallback, std::int64_t min, std::int64_t max,
                                  std::string_view meaning) {
    return Setting{key, Type::Milliseconds, fallback, min, max, {}, meaning};
  }
  static constexpr Setting boolean(std::string_view key, std::string_view fallback, std::string_view meaning) {
    return Setting{key, Type::Boolean, fallback, 0, 0, {}, meaning};
  }
  static constexpr Setting text(std::string_view key, std::string_view fallback, std::string_view meaning) {
    return Setting{key, Type::Text, fallback, 0, 0, {}, meaning};
  }
  static constexpr Setting choice(std::string_view key, std::string_view fallback, std::string_view choices,
                                  std::string_view meaning) {
    return Setting{key, Type::Choice, fallback, 0, 0, choices, meaning};
  }
};

/// The keys of one section.
using SettingsSchema = std::span<const Setting>;

/// A setting whose value is missing where required, of the wrong type or out of range; the
/// message names "<section>.<key>".
class SettingError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The values of one section, checked against its schema when read (SettingError otherwise),
/// with the defaults of the keys it does not set. Asking for a key the schema does not declare,
/// or as another type, is a bug: std::logic_error.
class Settings {
 public:
  Settings() = default;
  /// Checks `values` (key -> text as written) of `section` against `schema`.
  Settings(std::string section, SettingsSchema schema, const std::map<std::string, std::string>& values);

  std::int64_t integer(std::string_view key) const;
  std::chrono::milliseconds millis(std::string_view key) const;
  bool boolean(std::string_view key) const;
  /// A Text or Choice value (a Choice in lower case).
  const std::string& text(std::string_view key) const;
  const std::string& section() const { return section_; }

 private:
  const std::string& value(std::string_view key, Setting::Type type) const;

  std::string section_;
  SettingsSchema schema_;
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace svc
