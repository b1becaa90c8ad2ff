#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// A small strict JSON reader and writer. Numbers keep their literal text, so a caller can tell
/// "not an integer" from "an integer too large for any C++ type" and say which in its error.
namespace svc::json {

enum class Kind { Null, Bool, Number, String, Array, Object };

class Value;
using Member = std::pair<std::string, Value>;

class Value {
 public:
  Value() = default;
  static Value boolean(bool value);
  static Value number(std::string literal);
  static Value string(std::string text);
  static Value array(std::vector<Value> items);
  static Value object(std::vector<Member> members);

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isObject() const { return kind_ == Kind::Object; }
  bool asBool() const { return bool_; }
  /// The text of a String, or the literal of a Number exactly as written.
  const std::string& text() const { return text_; }
  /// True for a Number written without fraction or exponent.
  bool isIntegerLiteral() const;
  /// The value of an integer literal, or nothing when it is not one or does not fit.
  std::optional<std::int64_t> asInt64() const;
  const std::vector<Value>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }
  /// The member of an Object with this name, or nullptr.
  const Value* find(std::string_view name) const;

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

/// Thrown for text that is not one well-formed JSON value; `offset` is where reading stopped.
class ParseError : public std::runtime_error {
 public:
  ParseError(const std::string& message, std::size_t offset);
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

struct ParseOptions {
  std::size_t maxDepth = 32;  ///< nesting of arrays and objects
};

/// Parses exactly one JSON value (RFC 8259): UTF-8 only, no duplicate member names.
Value parse(std::string_view text, const ParseOptions& options = {});

/// Appends `text` as a quoted, escaped JSON string.
void appendQuoted(std::string& out, std::string_view text);

/// Appends a finite number with six significant digits ("%.6g").
void appendNumber(std::string& out, double value);

/// Builds a JSON object in insertion order: ObjectWriter().add("id", 1).add("ok", true).str()
class ObjectWriter {
 public:
  ObjectWriter& add(std::string_view name, std::string_view value);
  ObjectWriter& add(std::string_view name, const char* value) { return add(name, std::string_view(value)); }
  ObjectWriter& add(std::string_view name, const std::string& value) { return add(name, std::string_view(value)); }
  ObjectWriter& add(std::string_view name, bool value);
  ObjectWriter& add(std::string_view name, double value);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  ObjectWriter& add(std::string_view name, T value) {
    return addInteger(name, static_cast<std::int64_t>(value));
  }
  /// Adds an already serialized JSON value (an array or object built elsewhere).
  ObjectWriter& addRaw(std::string_view name, std::string_view json);
  std::string str() const { return out_ + '}'; }

 private:
  ObjectWriter& addInteger(std::string_view name, std::int64_t value);
  void startMember(std::string_view name);
  std::string out_ = "{";
};

}  // namespace svc::json
