#pragma once

#include <string>

#include "svc/json.h"

namespace test_support {

/// A JSON document as block-style YAML 1.2, the same data for YAML tools and readers:
/// multi-line strings as literal blocks, other strings plain unless YAML would read them
/// as something else. docs/openapi.yaml is made from docs/openapi.json with it.
std::string toYaml(const svc::json::Value& document);

}  // namespace test_support
