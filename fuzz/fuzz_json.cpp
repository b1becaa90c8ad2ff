// svc::json::parse on arbitrary bytes. Invariants:
//  - a document that parses, written back (objects, arrays, strings via appendQuoted, numbers as
//    their literal), parses again to an equal value;
//  - an integer literal that asInt64() reads is exactly the decimal text of that integer;
//  - appendQuoted of ANY bytes is a document parse() accepts, a String; quoting the text it
//    yields (valid UTF-8 by then) gives it back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "svc/json.h"

namespace {

using svc::json::Kind;
using svc::json::Value;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void write(std::string& out, const Value& value) {
  switch (value.kind()) {
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += value.asBool() ? "true" : "false"; break;
    case Kind::Number: out += value.text(); break;
    case Kind::String: svc::json::appendQuoted(out, value.text()); break;
    case Kind::Array: {
      out += '[';
      for (std::size_t i = 0; i < value.items().size(); ++i) {
        if (i > 0) out += ',';
        write(out, value.items()[i]);
      }
      out += ']';
      break;
    }
    case Kind::Object: {
      out += '{';
      for (std::size_t i = 0; i < value.members().size(); ++i) {
        if (i > 0) out += ',';
        svc::json::appendQuoted(out, value.members()[i].first);
        out += ':';
        write(out, value.members()[i].second);
      }
      out += '}';
      break;
    }
  }
}

// Structural equality; members are compared in order (the writer keeps it).
bool equal(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::Null: return true;
    case Kind::Bool: return a.asBool() == b.asBool();
    case Kind::Number:
    case Kind::String: return a.text() == b.text();
    case Kind::Array:
      if (a.items().size() != b.items().size()) return false;
      for (std::size_t i = 0; i < a.items().size(); ++i) {
        if (!equal(a.items()[i], b.items()[i])) return false;
      }
      return true;
    case Kind::Object:
      if (a.members().size() != b.members().size()) return false;
      for (std::size_t i = 0; i < a.members().size(); ++i) {
        if (a.members()[i].first != b.members()[i].first || !equal(a.members()[i].second, b.members()[i].second)) {
          return false;
        }
      }
      return true;
  }
  return false;
}

void checkNumbers(const Value& value) {
  if (value.kind() == Kind::Number) {
    if (const auto number = value.asInt64(); number && std::to_string(*number) != value.text() && value.text() != "-0") {
      fail("asInt64 does not match the literal", value.text());
    }
  }
  for (const Value& item : value.items()) checkNumbers(item);
  for (const auto& member : value.members()) checkNumbers(member.second);
}

void checkQuoting(std::string_view bytes) {
  std::string quoted;
  svc::json::appendQuoted(quoted, bytes);
  Value parsed;
  try {
    parsed = svc::json::parse(quoted);
  } catch (const svc::json::ParseError& error) {
    fail("appendQuoted produced a document parse() refuses", quoted + "\n" + error.what());
  }
  if (parsed.kind() != Kind::String) fail("appendQuoted did not produce a string", quoted);
  std::string again;
  svc::json::appendQuoted(again, parsed.text());
  if (svc::json::parse(again).text() != parsed.text()) fail("quoting valid UTF-8 does not round-trip", again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  checkQuoting(input);

  Value value;
  try {
    value = svc::json::parse(input);
  } catch (const svc::json::ParseError&) {
    return 0;
  }
  checkNumbers(value);
  std::string written;
  write(written, value);
  Value reparsed;
  try {
    reparsed = svc::json::parse(written);
  } catch (const svc::json::ParseError& error) {
    fail("the written form of a parsed value does not parse", written + "\n" + error.what());
  }
  if (!equal(value, reparsed)) fail("the written form parses to another value", written);
  return 0;
}
