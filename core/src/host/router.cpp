#include "router.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace svc::host {

namespace {

bool isParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool isLiteral(std::string_view segment) {
  return !segment.empty() && std::all_of(segment.begin(), segment.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

// "/a/b" -> {"a", "b"}; "/" -> {}; "/a/" -> {"a", ""}. The views are into `path`.
std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path == "/") return segments;
  std::size_t start = 1;
  while (true) {
    const std::size_t end = path.find('/', start);
    segments.emplace_back(path.substr(start, end - start));
    if (end == std::string_view::npos) return segments;
    start = end + 1;
  }
}

std::vector<std::string> parsePattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern \"" + std::string(pattern) + "\" must start with '/'");
  }
  std::vector<std::string> segments;
  for (const std::string_view segment : splitPath(pattern)) {
    if (!isLiteral(segment) && !(isParameter(segment) && isLiteral(segment.substr(1, segment.size() - 2)))) {
      throw std::invalid_argument("route pattern \"" + std::string(pattern) + "\" has an invalid segment \"" +
                                  std::string(segment) + "\"");
    }
    segments.emplace_back(segment);
  }
  return segments;
}

bool isMethodToken(std::string_view method) {
  return !method.empty() &&
         std::all_of(method.begin(), method.end(), [](unsigned char c) { return c >= 'A' && c <= 'Z'; });
}

// Whether two patterns accept the same paths ("/orders/{id}" and "/orders/{number}" do).
bool sameShape(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const std::string& x, const std::string& y) {
    return isParameter(x) ? isParameter(y) : x == y;
  });
}

// Whether `route` accepts `path`; fills `params` and `literals` (how many literal segments matched).
bool matches(const Route& route, const std::vector<std::string_view>& path, PathParams& params, std::size_t& literals) {
  if (route.segments.size() != path.size()) return false;
  params.clear();
  literals = 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& segment = route.segments[i];
    if (isParameter(segment)) {
      if (path[i].empty()) return false;
      params.emplace_back(segment.substr(1, segment.size() - 2), std::string(path[i]));
    } else if (segment == path[i]) {
      ++literals;
    } else {
      return false;
    }
  }
  return true;
}

void addAllowed(std::vector<std::string_view>& allowed, std::string_view method) {
  if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) allowed.push_back(method);
}

}  // namespace

Route& Router::addRoute(std::string_view method, std::string_view pattern, bool hasHandler) {
  if (!isMethodToken(method)) throw std::invalid_argument("invalid HTTP method \"" + std::string(method) + "\"");
  if (!hasHandler) throw std::invalid_argument("route " + std::string(pattern) + " has no handler");
  std::vector<std::string> segments = parsePattern(pattern);
  for (const Route& route : routes_) {
    if (route.method == method && sameShape(route.segments, segments)) {
      throw std::invalid_argument(std::string(method) + " " + std::string(pattern) + " is already served by " +
                                  route.method + " " + route.pattern);
    }
  }
  routes_.push_back(Route{.method = std::string(method),
                          .pattern = std::string(pattern),
                          .segments = std::move(segments),
                          .handler = {},
                          .asyncHandler = {},
                          .patternId = patternId(pattern)});
  return routes_.back();
}

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  addRoute(method, pattern, static_cast<bool>(handler)).handler = std::move(handler);
}

void Router::addAsync(std::string_view method, std::string_view pattern, AsyncHandler handler) {
  Route& route = addRoute(method, pattern, static_cast<bool>(handler));
  route.asyncHandler = std::move(handler);
  route.mayBlock = false;
}

void Router::addNonBlocking(std::string_view method, std::string_view pattern, Handler handler) {
  add(method, pattern, std::move(handler));
  routes_.back().mayBlock = false;
}

void Router::markProbe(std::string_view pattern) {
  const std::size_t id = patternId(pattern);
  if (probes_.size() <= id) probes_.resize(id + 1);
  probes_[id] = true;
}

std::size_t Router::patternId(std::string_view pattern) {
  const auto known = std::find(patterns_.begin(), patterns_.end(), pattern);
  if (known != patterns_.end()) return static_cast<std::size_t>(known - patterns_.begin());
  patterns_.emplace_back(pattern);
  return patterns_.size() - 1;
}

RouteLookup Router::find(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> segments = splitPath(path);
  const std::string_view wanted = method == "HEAD" ? "GET" : method;
  RouteLookup lookup;
  std::size_t bestLiterals = 0;
  std::size_t bestLiteralsOfAnyMethod = 0;
  PathParams params;
  std::size_t literals = 0;
  for (const Route& route : routes_) {
    if (!matches(route, segments, params, literals)) continue;
    if (lookup.patternId == kNoPattern || literals > bestLiteralsOfAnyMethod) {
      lookup.patternId = route.patternId;
      bestLiteralsOfAnyMethod = literals;
    }
    addAllowed(lookup.allowedMethods, route.method);
    if (route.method == "GET") addAllowed(lookup.allowedMethods, "HEAD");
    if (route.method == wanted && (!lookup.route || literals > bestLiterals)) {
      lookup.route = &route;
      lookup.params = params;
      bestLiterals = literals;
    }
  }
  if (!lookup.allowedMethods.empty()) addAllowed(lookup.allowedMethods, "OPTIONS");
  if (lookup.route) lookup.patternId = lookup.route->patternId;
  return lookup;
}

std::string joinMethods(const std::vector<std::string_view>& methods) {
  std::string joined;
  for (const std::string_view method : methods) {
    if (!joined.empty()) joined += ", ";
    joined += method;
  }
  return joined;
}

}  // namespace svc::host

