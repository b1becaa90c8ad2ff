#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "svc/json.h"

namespace test_support {

/// docs/openapi.json of the source tree.
svc::json::Value sourceOpenApiDocument();

/// Every (METHOD, path template) the document describes.
std::set<std::pair<std::string, std::string>> documentedOperations(const svc::json::Value& document);

/// The status codes documented for `method` on the concrete `path` (matched against the path
/// templates); empty when the document has no such operation.
std::set<int> documentedStatuses(const svc::json::Value& document, const std::string& method, const std::string& path);

/// Where the document and the host disagree about X-Request-Id: component responses and inline
/// ones of routed answers without the header (#/components/headers/RequestId), and those the
/// connection gives before routing (RequestTimeout, ContentTooLarge, NotImplemented) with it.
std::vector<std::string> misplacedRequestIdHeaders(const svc::json::Value& document);

}  // namespace test_support
