#!/usr/bin/env bash
# Runs every SERIAL test (those that measure deadlines, recovery or latency: RUN_SERIAL in ctest)
# RUNS times in a row (default 20) beside two busy loops, one per core of this 2-core machine's
# kind, and prints how many runs each passed. A test that fails once stops repeating and is named.
#
#   scripts/flake-check.sh [RUNS] [ctest arguments]   e.g. scripts/flake-check.sh 20 -L postgres
#
# Runs in an existing test build: BUILD_DIR (default build), configured as scripts/test.sh does
# (ORDER_SERVICE_TEST_POSTGRES and ORDER_SERVICE_TEST_PGBOUNCER pointing at running servers).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
shift || true
build=${BUILD_DIR:-build}

serial=$(ctest --test-dir "$build" --show-only=json-v1 "$@" | python3 -c '
import json, re, sys
tests = json.load(sys.stdin)["tests"]
names = [t["name"] for t in tests
         if any(p["name"] == "RUN_SERIAL" and p["value"] for p in t.get("properties", []))]
print("|".join(re.escape(name) for name in names))')
[ -n "$serial" ] || { echo "flake-check: no SERIAL test in $build" >&2; exit 1; }

busy=()
for _ in 1 2; do
  (while :; do :; done) &
  busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null || true' EXIT

log=$(mktemp /tmp/flake-check.XXXXXX.log)
started=$SECONDS
status=0
ctest --test-dir "$build" -R "^($serial)\$" --repeat until-fail:"$runs" --output-on-failure "$@" >"$log" 2>&1 || status=$?
echo "flake-check: $(grep -c ' Passed ' "$log") passing runs of SERIAL tests ($runs each asked)," \
     "$((SECONDS - started)) s beside two busy loops; log $log"
grep -E '^[0-9]+% tests passed' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "flake-check: failed:"
  sed -n '/The following tests FAILED/,$p' "$log" | grep -E '^\s+[0-9]+ - ' || true
fi
exit "$status"
