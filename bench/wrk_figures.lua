-- wrk: bench/run.sh appends this to a request script (or runs it alone) and reads the one line it
-- prints at the end: requests/s, latency p50, p99, p99.9 and max in ms, errors (socket errors
-- and statuses >= 400) and, among them, timeouts.
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("bench-figures %.1f %.3f %.3f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout, errors.timeout))
end
