#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "svc/routes.h"

namespace svc::host {

struct Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  ///< "{name}" for a parameter
  Handler handler;
};

/// The outcome of looking a request up: a route, or the methods the path does allow (405),
/// or neither (404).
struct RouteLookup {
  const Route* route = nullptr;
  PathParams params;
  std::vector<std::string> allowedMethods;

  bool found() const { return route != nullptr; }
  bool pathExists() const { return route != nullptr || !allowedMethods.empty(); }
};

class Router final : public RouteRegistry {
 public:
  void add(std::string_view method, std::string_view pattern, Handler handler) override;
  RouteLookup find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

/// "GET, HEAD, POST": the value of an Allow header.
std::string joinMethods(const std::vector<std::string>& methods);

}  // namespace svc::host
