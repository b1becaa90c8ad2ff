#pragma once

#include <string_view>

#include "svc/http.h"

namespace svc {

/// Where a route plugin declares what it serves.
class RouteRegistry {
 public:
  virtual ~RouteRegistry() = default;

  /// Serves `method` requests (GET also answers HEAD) on `pattern`: literal segments and `{name}`
  /// parameters separated by '/', e.g. "/orders/{id}". A literal segment wins over a parameter.
  /// Throws std::invalid_argument for a malformed pattern or a route that is already taken.
  virtual void add(std::string_view method, std::string_view pattern, Handler handler) = 0;
  /// The same for a handler that must not block and answers through its svc::Reply.
  virtual void addAsync(std::string_view method, std::string_view pattern, AsyncHandler handler) = 0;
};

}  // namespace svc
