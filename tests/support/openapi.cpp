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

namespace {

// Answered by the connection before a request is routed, so before it has an id.
const std::set<std::string> kRefusedBeforeRouting = {"RequestTimeout", "ContentTooLarge", "NotImplemented"};

bool hasRequestIdHeader(const svc::json::Value& response) {
  const svc::json::Value* headers = response.find("headers");
  const svc::json::Value* header = headers == nullptr ? nullptr : headers->find("X-Request-Id");
  return header != nullptr && header->find("$ref") != nullptr &&
         header->find("$ref")->text() == "#/components/headers/RequestId";
}

}  // namespace

std::vector<std::string> misplacedRequestIdHeaders(const svc::json::Value& document) {
  std::vector<std::string> misplaced;
  for (const auto& [name, response] : document.find("components")->find("responses")->members()) {
    if (hasRequestIdHeader(response) == kRefusedBeforeRouting.contains(name)) misplaced.push_back("#/components/responses/" + name);
  }
  for (const auto& [path, item] : document.find("paths")->members()) {
    for (const auto& [method, operation] : item.members()) {
      if (!operation.isObject() || operation.find("responses") == nullptr) continue;
      for (const auto& [status, response] : operation.find("responses")->members()) {
        if (response.find("$ref") == nullptr && !hasRequestIdHeader(response)) {
          misplaced.push_back(method + " " + path + " " + status);
        }
      }
    }
  }
  return misplaced;
}

}  // namespace test_support
