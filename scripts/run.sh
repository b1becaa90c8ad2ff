#!/usr/bin/env bash
# Installs the build dependencies, builds, and serves Order Service on http://localhost:8080 with
# the embedded SQLite database (build/bin/data/orders.db). Arguments go to the server, e.g.
# scripts/run.sh --config=config/order-service.postgres.ini
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

scripts/install-deps.sh
cmake -S . -B "$build" -DORDER_SERVICE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"
exec "$build/bin/order-service" "$@"
