// Item 7 evaluation: Poco::JSON::Parser (POCO 1.11) behind the strict reader (svc::json::parse).
#include <chrono>
#include <cstdio>
#include <string>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Object.h>
#include "svc/json.h"

using Clock = std::chrono::steady_clock;

static std::string poco(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(32);
    Poco::Dynamic::Var v = parser.parse(text);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
      auto o = v.extract<Poco::JSON::Object::Ptr>();
      std::string out = "accepted {";
      for (auto& [k, val] : *o) out += k + "=" + (val.isEmpty() ? "null" : val.toString()) + "(" + val.type().name() + ") ";
      return out + "}";
    }
    return "accepted " + v.toString();
  } catch (const Poco::Exception& e) { return "rejected: " + e.displayText(); }
  catch (const std::exception& e) { return std::string("rejected(std): ") + e.what(); }
}
static std::string ours(const std::string& text) {
  try { auto v = svc::json::parse(text); std::string out = "accepted";
    if (v.isObject()) for (auto& [k, val] : v.members()) out += " " + k + "=" + val.text();
    return out; }
  catch (const std::exception& e) { return std::string("rejected: ") + e.what(); }
}

int main() {
  const char* cases[] = {
    R"({"user_id":1,"user_id":2})",
    "{\"a\":\"\xff\xfe\"}",
    R"({"a":"\ud800"})",
    R"({"quantity":99999999999999999999})",
    R"({"quantity":1e400})",
    R"({"quantity":2.0})",
    R"({"a":1} trailing)",
    R"({"a":1,})",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    R"({"a":01})",
    "{\"a\":\"tab\there\"}",
  };
  for (const char* c : cases) std::printf("%-60.60s\n   ours: %s\n   poco: %s\n", c, ours(c).c_str(), poco(c).c_str());
  const std::string body = R"({"user_id": 123, "product_id": 456, "quantity": 2})";
  for (int round = 0; round < 3; ++round) {
    constexpr int n = 300000;
    auto start = Clock::now();
    std::size_t sink = 0;
    for (int i = 0; i < n; ++i) sink += svc::json::parse(body).members().size();
    const double oursNs = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / n;
    start = Clock::now();
    for (int i = 0; i < n; ++i) { Poco::JSON::Parser p; sink += p.parse(body).extract<Poco::JSON::Object::Ptr>()->size(); }
    const double pocoNs = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / n;
    std::printf("order body: ours %.0f ns, Poco::JSON %.0f ns (%.1fx) [%zu]\n", oursNs, pocoNs, pocoNs / oursNs, sink);
  }
}
