#pragma once

#include <set>
#include <string>
#include <utility>

#include "svc/json.h"

namespace test_support {

/// docs/openapi.json of the source tree.
svc::json::Value sourceOpenApiDocument();

/// Every (METHOD, path template) the document describes.
std::set<std::pair<std::string, std::string>> documentedOperations(const svc::json::Value& document);

/// The status codes documented for `method` on the concrete `path` (matched against the path
/// templates); empty when the document has no such operation.
std::set<int> documentedStatuses(const svc::json::Value& document, const std::string& method, const std::string& path);

}  // namespace test_support
