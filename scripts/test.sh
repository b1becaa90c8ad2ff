#!/usr/bin/env bash
# Installs what the tests need (PostgreSQL 15 and PgBouncer included), builds, starts a throwaway
# PostgreSQL and a PgBouncer in pool_mode = transaction in front of it on 127.0.0.1 and runs every
# test (unit, integration, end-to-end) on SQLite and on PostgreSQL, the end-to-end orders tests
# once more through PgBouncer (label pgbouncer), then all of them again built with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/test.sh [--quick] [ctest arguments]   --quick: without the sanitizer pass
#   e.g. scripts/test.sh --quick -L postgres, scripts/test.sh --quick -R OrdersApi
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
if [ "${1:-}" = "--quick" ]; then quick=true; shift; fi

scripts/install-deps.sh --test

# In memory when there is room: each test creates and drops a database of some 300 files, and on
# ext4 the creation of files just deleted by the last test took more CPU than the tests did.
scratch=/tmp
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ "$(df -k --output=avail /dev/shm | tail -1)" -gt 2000000 ]; then
  scratch=/dev/shm
fi
pgdir=$(mktemp -d "$scratch/order-service-pg.XXXXXX")
trap 'scripts/pgbouncer-throwaway.sh stop "$pgdir/pgbouncer" || true; scripts/pg-throwaway.sh stop "$pgdir" || true; rm -rf "$pgdir"' EXIT
# fsync=off, full_page_writes=off, wal_level=minimal: nothing of it must survive a machine crash,
# and each test creates a database (STRATEGY = FILE_COPY: 15 ms so, 300 ms with the defaults).
# Commits still reach the kernel before they are acknowledged, so a killed server process would
# lose none of them.
postgres=$(PG_OPTIONS="-c fsync=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0" \
  scripts/pg-throwaway.sh start "$pgdir")
echo "test: PostgreSQL at $postgres" >&2
pgbouncer=$(scripts/pgbouncer-throwaway.sh start "$pgdir/pgbouncer" "$(cat "$pgdir/port")")
echo "test: PgBouncer (pool_mode = transaction) at $pgbouncer" >&2

run_suite() {  # BUILD_DIR [CMAKE ARGUMENTS...]
  local build=$1; shift
  cmake -S . -B "$build" -DORDER_SERVICE_BUILD_TESTS=ON -DORDER_SERVICE_TEST_POSTGRES="$postgres" \
    -DORDER_SERVICE_TEST_PGBOUNCER="$pgbouncer" "$@" >/dev/null
  cmake --build "$build" -j"$(nproc)"
  # Twice as many tests as cores: most of a test's time is spent waiting for a server or the
  # database; the tests that measure time run alone (RUN_SERIAL) whatever -j says.
  ctest --test-dir "$build" --output-on-failure -j"$(($(nproc) * 2))" "${ctest_args[@]}"
}

ctest_args=("$@")
run_suite "${BUILD_DIR:-build}"
if ! $quick; then
  echo "test: again with AddressSanitizer and UndefinedBehaviorSanitizer" >&2
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-sanitize -DORDER_SERVICE_SANITIZE=ON -DORDER_SERVICE_BUILD_BENCH=OFF
fi
