#include "svc/json.h"

#include <charconv>
#include <cmath>

namespace svc::json {

Value Value::boolean(bool value) {
  Value v;
  v.kind_ = Kind::Bool;
  v.bool_ = value;
  return v;
}

Value Value::number(std::string literal) {
  Value v;
  v.kind_ = Kind::Number;
  v.text_ = std::move(literal);
  return v;
}

Value Value::string(std::string text) {
  Value v;
  v.kind_ = Kind::String;
  v.text_ = std::move(text);
  return v;
}

Value Value::array(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::Array;
  v.items_ = std::move(items);
  return v;
}

Value Value::object(std::vector<Member> members) {
  Value v;
  v.kind_ = Kind::Object;
  v.members_ = std::move(members);
  return v;
}

bool Value::isIntegerLiteral() const {
  return kind_ == Kind::Number && text_.find_first_of(".eE") == std::string::npos;
}

std::optional<std::int64_t> Value::asInt64() const {
  if (!isIntegerLiteral()) return std::nullopt;
  std::int64_t result = 0;
  const char* end = text_.data() + text_.size();
  auto [ptr, error] = std::from_chars(text_.data(), end, result);
  if (error != std::errc() || ptr != end) return std::nullopt;
  return result;
}

const Value* Value::find(std::string_view name) const {
  for (const auto& [key, value] : members_) {
    if (key == name) return &value;
  }
  return nullptr;
}

ParseError::ParseError(const std::string& message, std::size_t offset)
    : std::runtime_error(message + " at offset " + std::to_string(offset)), offset_(offset) {}

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The length of the well-formed UTF-8 character starting at `pos` (a non-ASCII lead byte),
// or 0 for a stray byte, a truncated, overlong or surrogate sequence.
std::size_t utf8SequenceLength(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 0;
  unsigned minimum = 0;
  unsigned code = 0;
  if (lead >= 0xC2 && lead <= 0xDF) length = 2, minimum = 0x80, code = lead & 0x1F;
  else if (lead >= 0xE0 && lead <= 0xEF) length = 3, minimum = 0x800, code = lead & 0x0F;
  else if (lead >= 0xF0 && lead <= 0xF4) length = 4, minimum = 0x10000, code = lead & 0x07;
  else return 0;
  if (text.size() - pos < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

  Value parseDocument() {
    skipWhitespace();
    Value value = parseValue(0);
    skipWhitespace();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw ParseError(message, pos_); }

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }

  void skipWhitespace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  void expectWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("invalid literal");
    pos_ += word.size();
  }

  Value parseValue(std::size_t depth) {
    if (atEnd()) fail("unexpected end of input");
    switch (peek()) {
      case '{': return parseObject(depth + 1);
      case '[': return parseArray(depth + 1);
      case '"': return Value::string(parseString());
      case 't': expectWord("true"); return Value::boolean(true);
      case 'f': expectWord("false"); return Value::boolean(false);
      case 'n': expectWord("null"); return Value();
      default: return parseNumber();
    }
  }

  void checkDepth(std::size_t depth) const {
    if (depth > options_.maxDepth) fail("nesting deeper than " + std::to_string(options_.maxDepth) + " levels");
  }

  Value parseObject(std::size_t depth) {
    checkDepth(depth);
    expect('{');
    std::vector<Member> members;
    skipWhitespace();
    if (peek() == '}') {
      ++pos_;
      return Value::object(std::move(members));
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') fail("expected a member name");
      std::string name = parseString();
      for (const auto& member : members) {
        if (member.first == name) fail("duplicate member name \"" + name + "\"");
      }
      skipWhitespace();
      expect(':');
      skipWhitespace();
      Value value = parseValue(depth);
      members.emplace_back(std::move(name), std::move(value));
      skipWhitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return Value::object(std::move(members));
    }
  }

  Value parseArray(std::size_t depth) {
    checkDepth(depth);
    expect('[');
    std::vector<Value> items;
    skipWhitespace();
    if (peek() == ']') {
      ++pos_;
      return Value::array(std::move(items));
    }
    while (true) {
      skipWhitespace();
      items.push_back(parseValue(depth));
      skipWhitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return Value::array(std::move(items));
    }
  }

  Value parseNumber() {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) ++pos_;
    } else {
      fail("unexpected character");
    }
    if (peek() == '.') {
      ++pos_;
      if (!isDigit(peek())) fail("expected a digit after '.'");
      while (isDigit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!isDigit(peek())) fail("expected a digit in the exponent");
      while (isDigit(peek())) ++pos_;
    }
    return Value::number(std::string(text_.substr(start, pos_ - start)));
  }

  unsigned parseHex4() {
    if (text_.size() - pos_ < 4) fail("incomplete \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (isDigit(c)) code |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') code |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') code |= static_cast<unsigned>(c - 'A' + 10);
      else fail("invalid \\u escape");
    }
    return code;
  }

  static void appendUtf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  unsigned parseEscapedCodePoint() {
    const unsigned first = parseHex4();
    if (first >= 0xDC00 && first <= 0xDFFF) fail("unpaired low surrogate");
    if (first < 0xD800 || first > 0xDBFF) return first;
    if (text_.substr(pos_, 2) != "\\u") fail("unpaired high surrogate");
    pos_ += 2;
    const unsigned second = parseHex4();
    if (second < 0xDC00 || second > 0xDFFF) fail("unpaired high surrogate");
    return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
  }

  void parseEscape(std::string& out) {
    if (atEnd()) fail("unterminated string");
    const char c = text_[pos_++];
    switch (c) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': appendUtf8(out, parseEscapedCodePoint()); break;
      default: --pos_; fail("invalid escape");
    }
  }

  void copyUtf8Character(std::string& out) {
    const std::size_t length = utf8SequenceLength(text_, pos_);
    if (length == 0) fail("invalid UTF-8");
    out.append(text_.substr(pos_, length));
    pos_ += length;
  }

  std::string parseString() {
    expect('"');
    std::string out;
    while (true) {
      if (atEnd()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        ++pos_;
        parseEscape(out);
      } else if (c < 0x20) {
        fail("control character in string");
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        copyUtf8Character(out);
      }
    }
  }

  std::string_view text_;
  const ParseOptions& options_;
  std::size_t pos_ = 0;
};

}  // namespace

Value parse(std::string_view text, const ParseOptions& options) { return Parser(text, options).parseDocument(); }

// Escapes what JSON requires and replaces bytes that are not UTF-8 with U+FFFD, so that any
// text (a raw request path, a database message) yields a valid document.
void appendQuoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; };
  out += '"';
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t runStart = pos;  // most text needs no escape: copied a run at a time
    while (pos < text.size() && plain(static_cast<unsigned char>(text[pos]))) ++pos;
    out.append(text, runStart, pos - runStart);
    if (pos == text.size()) break;
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c >= 0x80) {
      const std::size_t length = utf8SequenceLength(text, pos);
      if (length == 0) {
        out += "\\ufffd";
        ++pos;
      } else {
        out.append(text.substr(pos, length));
        pos += length;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    ++pos;
  }
  out += '"';
}

void appendNumber(std::string& out, double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 6);
  out.append(buffer, result.ptr);
}

void ObjectWriter::startMember(std::string_view name) {
  if (out_.size() > 1) out_ += ',';
  appendQuoted(out_, name);
  out_ += ':';
}

ObjectWriter& ObjectWriter::add(std::string_view name, std::string_view value) {
  startMember(name);
  appendQuoted(out_, value);
  return *this;
}

ObjectWriter& ObjectWriter::add(std::string_view name, bool value) {
  startMember(name);
  out_ += value ? "true" : "false";
  return *this;
}

ObjectWriter& ObjectWriter::add(std::string_view name, double value) {
  startMember(name);
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  appendNumber(out_, value);
  return *this;
}

ObjectWriter& ObjectWriter::addInteger(std::string_view name, std::int64_t value) {
  startMember(name);
  out_ += std::to_string(value);
  return *this;
}

ObjectWriter& ObjectWriter::add(std::string_view name, std::nullptr_t) { return addRaw(name, "null"); }

ObjectWriter& ObjectWriter::add(std::string_view name, const ObjectWriter& object) { return addRaw(name, object.str()); }

ObjectWriter& ObjectWriter::add(std::string_view name, const ArrayWriter& array) { return addRaw(name, array.str()); }

ObjectWriter& ObjectWriter::addRaw(std::string_view name, std::string_view json) {
  startMember(name);
  out_ += json;
  return *this;
}

ArrayWriter& ArrayWriter::addJson(std::string_view json) {
  if (out_.size() > 1) out_ += ',';
  out_ += json;
  return *this;
}

ArrayWriter& ArrayWriter::add(std::string_view value) {
  std::string quoted;
  appendQuoted(quoted, value);
  return addJson(quoted);
}

ArrayWriter& ArrayWriter::add(bool value) { return addJson(value ? "true" : "false"); }
ArrayWriter& ArrayWriter::add(std::nullptr_t) { return addJson("null"); }
ArrayWriter& ArrayWriter::add(const ObjectWriter& object) { return addJson(object.str()); }
ArrayWriter& ArrayWriter::add(const ArrayWriter& array) { return addJson(array.str()); }
ArrayWriter& ArrayWriter::addInteger(std::int64_t value) { return addJson(std::to_string(value)); }

std::string_view kindName(Kind kind) {
  switch (kind) {
    case Kind::Null: return "null";
    case Kind::Bool: return "a boolean";
    case Kind::Number: return "a number";
    case Kind::String: return "a string";
    case Kind::Array: return "an array";
    case Kind::Object: return "an object";
  }
  return "a value";
}

ObjectReader::ObjectReader(const Value& value) : value_(value) {
  if (!value.isObject()) errors_.push_back(FieldError{"", "the body must be a JSON object, not " + std::string(kindName(value.kind()))});
}

void ObjectReader::reject(std::string_view name, std::string detail) {
  errors_.push_back(FieldError{"/" + std::string(name), std::string(name) + " " + std::move(detail)});
}

bool ObjectReader::has(std::string_view name) const { return value_.find(name) != nullptr; }

// The member when it is present and of `kind`; nothing (and an error, unless the value is no object) otherwise.
const Value* ObjectReader::member(std::string_view name, Kind kind, std::string_view expected) {
  if (!value_.isObject()) return nullptr;
  const Value* found = value_.find(name);
  if (found == nullptr) {
    reject(name, "is required");
  } else if (found->kind() != kind) {
    reject(name, "must be " + std::string(expected) + ", not " + std::string(kindName(found->kind())));
    found = nullptr;
  }
  return found;
}

std::optional<std::string> ObjectReader::integerLiteral(std::string_view name) {
  const Value* found = member(name, Kind::Number, "an integer");
  if (found == nullptr) return std::nullopt;
  if (!found->isIntegerLiteral()) {
    reject(name, "must be an integer, not " + found->text());
    return std::nullopt;
  }
  return found->text();
}

std::optional<std::int64_t> ObjectReader::int64(std::string_view name, std::int64_t min, std::int64_t max) {
  const std::optional<std::string> literal = integerLiteral(name);
  if (!literal) return std::nullopt;
  const std::optional<std::int64_t> number = value_.find(name)->asInt64();
  if (!number || *number < min || *number > max) {
    reject(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " + *literal);
    return std::nullopt;
  }
  return number;
}

std::optional<std::int32_t> ObjectReader::int32(std::string_view name, std::int32_t min, std::int32_t max) {
  const std::optional<std::int64_t> number = int64(name, min, max);
  if (!number) return std::nullopt;
  return static_cast<std::int32_t>(*number);
}

std::optional<std::string> ObjectReader::string(std::string_view name) {
  const Value* found = member(name, Kind::String, "a string");
  if (found == nullptr) return std::nullopt;
  return found->text();
}

std::optional<bool> ObjectReader::boolean(std::string_view name) {
  const Value* found = member(name, Kind::Bool, "a boolean");
  if (found == nullptr) return std::nullopt;
  return found->asBool();
}

void ObjectReader::finish(const std::string& title) const {
  if (!errors_.empty()) throw Invalid(title, errors_);
}

}  // namespace svc::json
