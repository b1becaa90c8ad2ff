#include "metrics_page.h"

#include "prometheus_text.h"

namespace svc::host {

namespace {

void renderPool(std::string& out, const PoolStats& stats) {
  prometheus::writeFamily(out, "db_pool_connections", "gauge", "Open database connections, by state.");
  prometheus::writeSample(out, "db_pool_connections", "{state=\"in_use\"}", static_cast<std::uint64_t>(stats.inUse));
  prometheus::writeSample(out, "db_pool_connections", "{state=\"idle\"}", static_cast<std::uint64_t>(stats.idle));
  prometheus::writeFamily(out, "db_pool_size", "gauge", "Database connections the pool may open ([storage] pool_size).");
  prometheus::writeSample(out, "db_pool_size", "", static_cast<std::uint64_t>(stats.size));
  prometheus::writeFamily(out, "db_pool_waits_total", "counter", "Requests for a connection that had to wait for one.");
  prometheus::writeSample(out, "db_pool_waits_total", "", stats.waits);
  prometheus::writeFamily(out, "db_pool_timeouts_total", "counter",
                          "Requests for a connection that gave up waiting (answered 503).");
  prometheus::writeSample(out, "db_pool_timeouts_total", "", stats.timeouts);
}

}  // namespace

std::string metricsPage(const HttpMetrics& http, const SessionPool* pool, const Counter& logLinesDropped,
                        const UpstreamClients& upstreams, const MetricsRegistry& plugins) {
  std::string out;
  http.render(out);
  if (pool) renderPool(out, pool->stats());
  prometheus::writeFamily(out, "log_lines_dropped_total", "counter",
                          "Log lines dropped because the log output did not keep up or failed (stalled pipe, full disk).");
  prometheus::writeSample(out, "log_lines_dropped_total", "", logLinesDropped.value());
  upstreams.render(out);
  plugins.render(out);
  return out;
}

std::vector<std::string> hostMetricNames() {
  std::vector<std::string> names = HttpMetrics::familyNames();
  names.insert(names.end(), {"db_pool_connections", "db_pool_size", "db_pool_waits_total", "db_pool_timeouts_total",
                       "log_lines_dropped_total"});
  const std::vector<std::string> upstreams = upstreamMetricNames();
  names.insert(names.end(), upstreams.begin(), upstreams.end());
  return names;
}

}  // namespace svc::host
