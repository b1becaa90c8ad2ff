#include "support/openapi.h"

#include <fstream>
#include <sstream>

#include <Poco/String.h>

namespace test_support {

namespace {

const char* const kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch"};

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
  return parts;
}

bool templateMatches(const std::string& pattern, const std::string& path) {
  const auto expected = segments(pattern);
  const auto actual = segments(path);
  if (expected.size() != actual.size()) return false;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const bool parameter = !expected[i].empty() && expected[i].front() == '{';
    if (!parameter && expected[i] != actual[i]) return false;
  }
  return true;
}

}  // namespace

svc::json::Value sourceOpenApiDocument() {
  std::ifstream in(std::string(ORDER_SERVICE_SOURCE_DIR) + "/docs/openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  return svc::json::parse(text.str(), {.maxDepth = 64});
}

std::set<std::pair<std::string, std::string>> documentedOperations(const svc::json::Value& document) {
  std::set<std::pair<std::string, std::string>> operations;
  for (const auto& [path, item] : document.find("paths")->members()) {
    for (const char* method : kMethods) {
      if (item.find(method) != nullptr) operations.emplace(Poco::toUpper(std::string(method)), path);
    }
  }
  return operations;
}

std::set<int> documentedStatuses(const svc::json::Value& document, const std::string& method, const std::string& path) {
  std::set<int> statuses;
  for (const auto& [pattern, item] : document.find("paths")->members()) {
    if (!templateMatches(pattern, path)) continue;
    const svc::json::Value* operation = item.find(Poco::toLower(method));
    if (operation == nullptr) continue;
    for (const auto& [status, response] : operation->find("responses")->members()) statuses.insert(std::stoi(status));
  }
  return statuses;
}

}  // namespace test_support
