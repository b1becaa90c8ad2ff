#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "svc/routes.h"

namespace svc::host {

struct Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  ///< "{name}" for a parameter
  Handler handler;              ///< may block: runs on a worker thread
  AsyncHandler asyncHandler;    ///< must not block: runs where the request was read, answers by its Reply
  std::size_t patternId = 0;  ///< the index of `pattern` in Router::patterns()
  /// Whether the handler may wait (on the database): it runs on a worker thread. The host's own
  /// routes that answer from memory, and asynchronous handlers, run on the event loop's thread.
  bool mayBlock = true;
};

inline constexpr std::size_t kNoPattern = static_cast<std::size_t>(-1);

/// The outcome of looking a request up: a route, or the methods the path does allow (405),
/// or neither (404).
struct RouteLookup {
  const Route* route = nullptr;
  PathParams params;
  std::vector<std::string_view> allowedMethods;  ///< views of the router's routes: valid while it lives
  /// The pattern of the most specific route matching the path, whatever its method (also for a
  /// 405 or an OPTIONS answer); kNoPattern when none does.
  std::size_t patternId = kNoPattern;

  bool found() const { return route != nullptr; }
  bool pathExists() const { return route != nullptr || !allowedMethods.empty(); }
};

class Router final : public RouteRegistry {
 public:
  void add(std::string_view method, std::string_view pattern, Handler handler) override;
  void addAsync(std::string_view method, std::string_view pattern, AsyncHandler handler) override;
  /// A route whose handler answers at once from memory, never waiting on anything.
  void addNonBlocking(std::string_view method, std::string_view pattern, Handler handler);
  RouteLookup find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }
  /// The distinct patterns of the routes, in the order first registered.
  const std::vector<std::string>& patterns() const { return patterns_; }
  /// Marks the routes of `pattern` as what orchestrators and scrapers poll (health, metrics).
  void markProbe(std::string_view pattern);
  bool isProbe(std::size_t patternId) const { return patternId < probes_.size() && probes_[patternId]; }

 private:
  std::size_t patternId(std::string_view pattern);
  Route& addRoute(std::string_view method, std::string_view pattern, bool hasHandler);

  std::vector<Route> routes_;
  std::vector<std::string> patterns_;
  std::vector<bool> probes_;  ///< by pattern id
};

/// "GET, HEAD, POST": the value of an Allow header.
std::string joinMethods(const std::vector<std::string_view>& methods);

}  // namespace svc::host
