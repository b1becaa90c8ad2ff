#pragma once

#include <string>
#include <vector>

#include "http_metrics.h"
#include "metrics_registry.h"
#include "session_pool.h"
#include "upstream_clients.h"

namespace svc::host {

/// The body of GET /metrics: the HTTP metrics, the pool's (when a storage plugin is configured), the
/// log lines dropped, the upstreams' (when a plugin calls any), then the plugins' counters.
std::string metricsPage(const HttpMetrics& http, const SessionPool* pool, const Counter& logLinesDropped,
                        const UpstreamClients& upstreams, const MetricsRegistry& plugins);

/// Every metric family the host renders itself, which plugins cannot register.
std::vector<std::string> hostMetricNames();

}  // namespace svc::host
