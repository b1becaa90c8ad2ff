// The host's settings, each declared once: settings.cpp reads them from these tables, and
// `--help`, docs/api.md's tables and config/order-service.ini's comments are generated from them.
#include "host_schema.h"

#include <algorithm>
#include <stdexcept>

namespace svc::host {

namespace {

using svc::Setting;

constexpr std::int64_t kOneDayMs = 24LL * 3600 * 1000;

// The host's durations are at most a day; `min` is 0 where 0 turns the wait off.
constexpr Setting millis(std::string_view key, std::string_view fallback, std::int64_t min, std::string_view meaning) {
  return Setting::millis(key, fallback, min, kOneDayMs, meaning);
}

constexpr Setting kService[] = {
    Setting::text("name", "",
                  "The service's name: service_name in every log line and the prefix of its environment variables "
                  "(order-service: ORDER_SERVICE_...); empty: the executable's name"),
    Setting::text("openapi_document", "", "The OpenAPI document served at GET /openapi.json; empty: not served"),
};

constexpr Setting kServer[] = {
    Setting::text("host", "0.0.0.0", "The address to listen on"),
    Setting::integer("port", "8080", 0, 65535, "The TCP port to listen on; 0 picks a free one (logged in \"Service started\")"),
    Setting::integer("io_threads", "2", 1, 64,
                     "Event loops (epoll) that hold every open connection, read the requests and send the answers"),
    Setting::integer("max_threads", "0", 0, 4096,
                     "Workers that run the database work and the handlers that may wait (synchronous plugin routes, "
                     "/health/ready); 0: twice the machine's cores, at most [storage] pool_size (4 without a storage "
                     "plugin)"),
    Setting::integer("max_queued", "10000", 1, 1 << 20,
                     "Complete requests waiting for a worker, beyond which 503 with Retry-After: 1 (a connection has one "
                     "waiting at most: max_connections refuses none)"),
    Setting::integer("max_connections", "10000", 1, 1 << 20,
                     "Open connections at most; one more takes the place of the longest-idle keep-alive connection, or "
                     "gets 503 when none is idle"),
    Setting::integer("backlog", "1024", 1, 65536, "Connections the kernel holds until the server accepts them"),
    Setting::boolean("keep_alive", "true", "Whether a connection carries more than one request"),
    millis("keep_alive_timeout_ms", "10000", 1, "How long a kept-alive connection may stay idle before it is closed"),
    Setting::integer("max_keep_alive_requests", "0", 0, 1 << 30, "Requests one connection may carry; 0: unlimited"),
    millis("receive_timeout_ms", "10000", 1,
           "A client silent this long while a request is due gets 408 (or, before its request line is complete, "
           "is disconnected)"),
    millis("request_timeout_ms", "30000", 1, "A request's head and body must arrive within this from its first byte, else 408"),
    millis("request_budget_ms", "10000", 1,
           "From a request's first byte to its answer: the deadline of its database work and of its calls to other "
           "services"),
    Setting::integer("max_head_bytes", "65536", 1024, 1 << 20, "A request line and header fields larger than this get 431"),
    Setting::integer("max_body_bytes", "16384", 1, 64 << 20, "A request body larger than this gets 413"),
    millis("drain_delay_ms", "5000", 0,
           "After SIGTERM or SIGINT, /health/ready answers 503 while the server still serves for this long; a second "
           "signal ends the drain"),
    millis("shutdown_grace_ms", "10000", 0, "Then requests in progress get this long to finish; past it the service exits 70"),
};

constexpr Setting kUpstreams[] = {
    Setting::integer("max_connections", "16", 1, 1024, "Calls in flight to one upstream at once, each on a connection of its own"),
    Setting::integer("max_queued", "1024", 0, 1 << 20,
                     "Calls waiting for one of those; beyond them a call is refused at once (503)"),
    Setting::integer("retries", "2", 0, 10,
                     "Extra attempts of an idempotent call at most, after a refused or reset connection or a 502/503/504"),
    Setting::integer("retry_budget_percent", "20", 0, 100, "Retries at most this share of an upstream's calls of the last 10 s"),
    Setting::integer("breaker_failures", "5", 1, 1000, "Consecutive failed calls that open an upstream's circuit breaker"),
    millis("breaker_open_ms", "500", 1, "How long an open breaker refuses calls before one probe is let through"),
};

constexpr Setting kLogging[] = {
    Setting::choice("format", "json", "json|text",
                    "json: one object per line; text: 2025-01-01T12:00:00.000Z INFO message key=value"),
    Setting::choice("level", "info", "debug|info|warning|error", "The least severe level written"),
    Setting::text("file", "", "Empty: stdout (syslog for a daemon); otherwise this file. Lines that cannot be "
                              "written are dropped and counted (log_lines_dropped_total), never the requests"),
    Setting::text("rotation", "", "When file is rotated: a POCO FileChannel rotation such as \"100 M\" or "
                                  "\"daily\" (10 files kept); empty: never"),
};

constexpr Setting kPlugins[] = {
    Setting::text("directory", "", "The folder of the plugins named without a '/': x is <directory>/libx.so"),
    Setting::text("storage", "",
                  "The storage plugin, a name or a path; its settings are the section named after its library, e.g. "
                  "[storage-sqlite]; empty: none"),
    Setting::text(kRoutePluginKey, "",
                  "A route plugin, a name or a path, one line each; its settings are the section [<name>]; empty: "
                  "not loaded (how an overlay unloads one of its base)"),
    Setting::text("migrations", "",
                  "The root of the plugins' migrations, <root>/<plugin>/<backend>/NNN_*.sql; required with a "
                  "storage plugin"),
};

constexpr Setting kStorage[] = {
    Setting::integer("pool_size", "16", 1, 4096, "Database connections the pool opens at most"),
    millis("acquire_timeout_ms", "1000", 1, "How long a request waits for a free connection before 503"),
    millis("reconnect_backoff_ms", "250", 0, "After a failed connect, requests get 503 without a new attempt for this long"),
    millis("ready_timeout_ms", "1000", 1, "GET /health/ready answers within this: a free (or new) connection and its SELECT 1"),
    millis("statement_timeout_ms", "5000", 0,
           "A unit of database work is cancelled at this + 250 ms and its connection cut at + 500 ms (503); also "
           "PostgreSQL's statement_timeout; 0: no deadline"),
    Setting::text("migrations", "",
                  "Deprecated: one backend's folder of migrations, whose parent is taken as [plugins] migrations"),
};

constexpr Setting kConfig[] = {
    Setting::text("base", "",
                  "A file read before this one (a path relative to this file), whose keys this file's replace; "
                  "empty: none"),
};

}  // namespace

const std::vector<SettingsSection>& hostSections() {
  static const std::vector<SettingsSection> sections{
      {"service", "host", kService}, {"server", "host", kServer},   {"upstreams", "host", kUpstreams},
      {"logging", "host", kLogging},
      {"plugins", "host", kPlugins}, {"storage", "host", kStorage}, {"config", "host", kConfig},
  };
  return sections;
}

SettingsSchema hostSchema(std::string_view section) {
  const auto& sections = hostSections();
  const auto found = std::find_if(sections.begin(), sections.end(), [&](const SettingsSection& s) { return s.name == section; });
  if (found == sections.end()) throw std::logic_error("the host has no section " + std::string(section));
  return found->schema;
}

}  // namespace svc::host
