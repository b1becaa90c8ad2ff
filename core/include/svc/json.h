#pragma once

#include <concepts>
#include <cstddef>
#include <limits>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "svc/errors.h"

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

class ArrayWriter;

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
  ObjectWriter& add(std::string_view name, std::nullptr_t);
  ObjectWriter& add(std::string_view name, const ObjectWriter& object);
  ObjectWriter& add(std::string_view name, const ArrayWriter& array);
  /// The value, or null when there is none.
  template <class T>
  ObjectWriter& add(std::string_view name, const std::optional<T>& value) {
    return value ? add(name, *value) : add(name, nullptr);
  }
  /// Adds an already serialized JSON value (an array or object built elsewhere).
  ObjectWriter& addRaw(std::string_view name, std::string_view json);
  std::string str() const { return out_ + '}'; }

 private:
  ObjectWriter& addInteger(std::string_view name, std::int64_t value);
  void startMember(std::string_view name);
  std::string out_ = "{";
};

/// Builds a JSON array in order: ArrayWriter().add(1).add(ObjectWriter().add("a", "b")).str()
class ArrayWriter {
 public:
  ArrayWriter& add(std::string_view value);
  ArrayWriter& add(const char* value) { return add(std::string_view(value)); }
  ArrayWriter& add(const std::string& value) { return add(std::string_view(value)); }
  ArrayWriter& add(bool value);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  ArrayWriter& add(T value) {
    return addInteger(static_cast<std::int64_t>(value));
  }
  ArrayWriter& add(std::nullptr_t);
  ArrayWriter& add(const ObjectWriter& object);
  ArrayWriter& add(const ArrayWriter& array);
  std::string str() const { return out_ + ']'; }

 private:
  ArrayWriter& addInteger(std::int64_t value);
  ArrayWriter& addJson(std::string_view json);
  std::string out_ = "[";
};

/// Reads the members of a JSON object into typed values, collecting a FieldError (JSON pointer
/// and detail) for each member that is missing or of the wrong type or range, so that one
/// answer can name them all:
///   ObjectReader reader(body);
///   auto quantity = reader.int32("quantity", 1, 100);  // nothing when it is wrong
///   reader.finish("The order is invalid");             // throws svc::Invalid listing every error
/// A value that is not an object is one error at pointer "" and every member then reads as nothing.
class ObjectReader {
 public:
  /// Reads `value`, which must outlive the reader.
  explicit ObjectReader(const Value& value);

  /// A required integer from `min` to `max`, written without fraction or exponent.
  std::optional<std::int64_t> int64(std::string_view name, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                    std::int64_t max = std::numeric_limits<std::int64_t>::max());
  std::optional<std::int32_t> int32(std::string_view name, std::int32_t min = std::numeric_limits<std::int32_t>::min(),
                                    std::int32_t max = std::numeric_limits<std::int32_t>::max());
  /// A required integer written without fraction or exponent, as written: it may be too large
  /// for any C++ type (a caller whose rule is a range says so in its own words).
  std::optional<std::string> integerLiteral(std::string_view name);
  std::optional<std::string> string(std::string_view name);
  std::optional<bool> boolean(std::string_view name);
  /// Whether the member is present (null counts as present).
  bool has(std::string_view name) const;

  const std::vector<FieldError>& errors() const { return errors_; }
  /// Throws svc::Invalid(title, errors()) when any read failed.
  void finish(const std::string& title) const;

 private:
  const Value* member(std::string_view name, Kind kind, std::string_view expected);
  void reject(std::string_view name, std::string detail);

  const Value& value_;
  std::vector<FieldError> errors_;
};

/// "null", "a boolean", "a number", "a string", "an array", "an object".
std::string_view kindName(Kind kind);

}  // namespace svc::json
