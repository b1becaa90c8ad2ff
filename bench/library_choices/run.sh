#!/usr/bin/env bash
# The measurements behind three library decisions (docs/architecture.md, "Library choices"):
#   - the host's metrics against prometheus-cpp (Debian prometheus-cpp-dev): recording one request
#     from 2 threads, and rendering /metrics;
#   - the strict JSON reader against Poco::JSON::Parser: what each accepts, and parsing an order;
#   - the batching log sink against Poco::AsyncChannel, writing into a pipe nobody reads.
# Builds each against the sources and a build of the service (BUILD_DIR, default build); installs
# prometheus-cpp-dev (needed by nothing else) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
out=$(mktemp -d /tmp/library-choices.XXXXXX)
trap 'rm -rf "$out"' EXIT
scripts/install-deps.sh --library-choices
[ -e "$build/bin/libsvc-plugin-api.so" ] || { echo "library_choices: build the service first ($build)" >&2; exit 1; }
flags=(-std=c++20 -O2 -Icore/include -Icore/src/host -Icore/src/api)
here=bench/library_choices
g++ "${flags[@]}" "$here/metrics_vs_prometheus_cpp.cpp" core/src/host/http_metrics.cpp core/src/host/prometheus_text.cpp \
  -lprometheus-cpp-core -pthread -o "$out/metrics"
g++ "${flags[@]}" "$here/json_vs_poco_json.cpp" "$build/bin/libsvc-plugin-api.so" -Wl,-rpath,"$PWD/$build/bin" \
  -lPocoJSON -lPocoFoundation -o "$out/json"
g++ "${flags[@]}" "$here/log_sink_vs_async_channel.cpp" core/src/host/log_sinks.cpp "$build/bin/libsvc-plugin-api.so" \
  -Wl,-rpath,"$PWD/$build/bin" -lPocoUtil -lPocoData -lPocoFoundation -pthread -o "$out/log"
"$out/metrics"
"$out/json"
for sink in ours poco; do timeout 30 "$out/log" "$sink" || true; done
