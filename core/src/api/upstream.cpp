#include "svc/upstream.h"

#include <Poco/String.h>

namespace svc {

std::optional<std::string> UpstreamResponse::header(std::string_view name) const {
  for (const Header& header : headers) {
    if (Poco::icompare(header.name, std::string(name)) == 0) return header.value;
  }
  return std::nullopt;
}

}  // namespace svc
