#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ in build-fuzz (clang, ASan + UBSan, the whole project
# instrumented for coverage) and runs each for N seconds (default 60) on a copy of its seed corpus,
# one after another. Prints one summary line per target; exits non-zero if any target found a
# crash, a timeout or an out-of-memory input, whose file path the output names.
#   fuzz/run.sh [seconds-per-target] [target...]     e.g. fuzz/run.sh 600 fuzz_order_request
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_ARGS (more libFuzzer options, e.g.
# "-fork=1 -ignore_crashes=1" to go on past a crash), FUZZ_KEEP_CORPUS=1 (keep the grown corpora).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_order_request fuzz_json fuzz_small_parsers)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

# --- toolchain: the project's packages, then clang 14 and its fuzzer runtime ---
scripts/install-deps.sh
missing=()
for package in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "fuzz: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- build: only the fuzz targets (the plugins do not link with the sanitizers, see CMakeLists.txt) ---
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DORDER_SERVICE_FUZZ=ON -DORDER_SERVICE_BUILD_TESTS=OFF \
  -DORDER_SERVICE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

# --- run ---
runs="$build/fuzz-runs/$(date +%Y%m%d-%H%M%S)"
work=$(mktemp -d "${TMPDIR:-/tmp}/order-service-fuzz.XXXXXX")
if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
  echo "fuzz: grown corpora kept in $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summaries=()
for target in "${targets[@]}"; do
  out="$runs/$target"
  mkdir -p "$out" "$work/$target"
  cp -R "$root/fuzz/corpus/$target/." "$work/$target/"
  options=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/")
  [ -f "$root/fuzz/dict/$target.dict" ] && options+=(-dict="$root/fuzz/dict/$target.dict")
  echo "fuzz: $target for ${seconds}s, log $out/fuzz.log" >&2
  status=0
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of options
  "$build/fuzz/$target" "${options[@]}" ${FUZZ_ARGS:-} "$work/$target" >"$out/fuzz.log" 2>&1 || status=$?
  # The last status line ("#N DONE cov: C ft: F corp: K/Sb ... exec/s: E"; fork mode prints a close kin).
  line=$(grep -E '^#[0-9]+:?[[:space:]]' "$out/fuzz.log" | tail -n 1 || true)
  execs=$(grep -oE 'stat::number_of_executed_units:[[:space:]]+[0-9]+' "$out/fuzz.log" | grep -oE '[0-9]+$' || true)
  rate=$(grep -oE 'stat::average_exec_per_sec:[[:space:]]+[0-9]+' "$out/fuzz.log" | grep -oE '[0-9]+$' || true)
  [ -n "$execs" ] || execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
  [ -n "$rate" ] || rate=$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$line")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
  corp=$(sed -nE 's/.* corp: ([0-9]+(\/[0-9a-zA-Z]+)?).*/\1/p' <<<"$line")
  findings=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
  result=ok
  if [ "$status" -ne 0 ] || [ -n "$findings" ]; then
    result="FAILED (exit $status)"
    failed=1
    grep -E 'ERROR: |INVARIANT BROKEN|SUMMARY: |Test unit written to' "$out/fuzz.log" | head -n 20 >&2 || true
    for file in $findings; do echo "fuzz: $target finding: $file" >&2; done
  fi
  summaries+=("$target: execs ${execs:-?} (${rate:-?}/s) cov ${cov:-?} ft ${ft:-?} corpus ${corp:-?} in ${seconds}s: $result")
done

printf '%s\n' "${summaries[@]}"
echo "fuzz: logs and findings in $runs"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: reproduce with $build/fuzz/<target> <file> (see fuzz/README.md)" >&2
  exit 1
fi
