#!/usr/bin/env bash
# Installs what the tests need (PostgreSQL 15 included), builds, starts a throwaway PostgreSQL on
# 127.0.0.1 and runs every test: unit, integration and end-to-end, on SQLite and on PostgreSQL.
# Extra arguments go to ctest, e.g. scripts/test.sh -L postgres, or -R OrdersApi.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

scripts/install-deps.sh --test

pgdir=$(mktemp -d /tmp/order-service-pg.XXXXXX)
trap 'scripts/pg-throwaway.sh stop "$pgdir" || true; rm -rf "$pgdir"' EXIT
postgres=$(scripts/pg-throwaway.sh start "$pgdir")
echo "test: PostgreSQL at $postgres" >&2

cmake -S . -B "$build" -DORDER_SERVICE_BUILD_TESTS=ON -DORDER_SERVICE_TEST_POSTGRES="$postgres" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
