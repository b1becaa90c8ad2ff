#!/usr/bin/env bash
# The plugin SDK as a plugin author in another repository uses it:
#   1. `cmake --install` the service into an empty prefix;
#   2. build examples/out-of-tree-plugin (copied out of the tree) against that prefix only;
#   3. load it into the INSTALLED server with one .ini line and call its route;
#   4. build it again against the same SDK claiming the next plugin API version: the installed
#      server refuses it at start-up (exit 78) before its factory runs.
#
#   out_of_tree_plugin_test.sh CMAKE_COMMAND SERVICE_BUILD_DIR EXAMPLE_SOURCE_DIR
set -euo pipefail
cmake=$1 service_build=$2 example_source=$3
source_tree=$(cd "$example_source/../.." && pwd)

work=$(mktemp -d /tmp/order-service-sdk.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*" >&2; }
quiet() {  # runs a command, shows its output only when it fails
  local log
  log=$(mktemp "$work/step.XXXXXX")
  "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$*"; }
}

prefix=$work/prefix
step "cmake --install into $prefix"
quiet "$cmake" --install "$service_build" --prefix "$prefix"

# Builds the example from a copy outside the source tree against SDK_PREFIX, into BUILD_DIR.
build_example() {  # SDK_PREFIX BUILD_DIR
  local sdk=$1 build=$2
  rm -rf "$build.src" && cp -r "$example_source" "$build.src"
  quiet "$cmake" -S "$build.src" -B "$build" -DCMAKE_PREFIX_PATH="$sdk" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  quiet "$cmake" --build "$build"
  [ -f "$build/libhello.so" ] || fail "no $build/libhello.so"
  # nothing of the build may come from the service's source or build tree
  if grep -rlsI -e "$source_tree/core/" -e "$source_tree/cmake/" -e "$service_build/" "$build" --include='*.txt' --include='*.cmake' \
       --include='*.make' --include='*.ninja' --include='flags.make' --include='link.txt'; then
    fail "the example's build refers to the source or build tree of the service"
  fi
}

# The same SDK, but with the headers of the next plugin API version (a symlinked copy of the prefix).
installed_version=$(sed -n 's/.*kPluginApiVersion = \([0-9]*\).*/\1/p' "$prefix/include/svc/version.h")
[ -n "$installed_version" ] || fail "no kPluginApiVersion in the installed svc/version.h"
next_version=$((installed_version + 1))
cp -rs "$prefix" "$work/next-sdk"
rm "$work/next-sdk/include/svc/version.h"
sed "s/kPluginApiVersion = $installed_version/kPluginApiVersion = $next_version/" \
  "$prefix/include/svc/version.h" >"$work/next-sdk/include/svc/version.h"

# Both builds at once: each is a compile of seconds that waits for nothing else.
step "build the example against the installed SDK, and against that of the next API version"
build_example "$prefix" "$work/build" &
build_current=$!
build_example "$work/next-sdk" "$work/build-next" &
build_next=$!
wait "$build_current" || fail "building against the installed SDK"
wait "$build_next" || fail "building against the SDK of the next API version"

# The installed default .ini with one more line under [plugins].
write_ini() {  # PLUGIN_PATH INI
  sed "/^\[plugins\]/a route.hello = $1" "$prefix/order-service.ini" >"$2"
  [ "$(grep -c '^route\.' "$2")" -eq 2 ] || fail "could not add route.hello to $2"
}

# Starts the installed server on a free port; waits for "Service started" or its exit. No drain
# before it stops: no load balancer sends it anything.
start_server() {  # INI
  ORDER_SERVICE_SERVER_HOST=127.0.0.1 ORDER_SERVICE_SERVER_PORT=0 ORDER_SERVICE_SERVER_DRAIN_DELAY_MS=0 \
    "$prefix/order-service" --config="$1" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 150); do
    if grep -q '"Service started"' "$work/server.log"; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  cat "$work/server.log" >&2
  fail "the installed server neither started nor exited within 15 s"
}

http_get() {  # PORT PATH: prints the response (status line, headers, body)
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
  timeout 10 cat <&3
  exec 3<&-
}

step "load it into the installed server with one .ini line"
write_ini "$work/build/libhello.so" "$work/hello.ini"
start_server "$work/hello.ini" || { cat "$work/server.log" >&2; fail "the installed server did not start with the example plugin"; }
port=$(grep -o '"Service started".*' "$work/server.log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2)
[ -n "$port" ] || { cat "$work/server.log" >&2; fail "no port in the Service started line"; }
response=$(http_get "$port" /hello/plugin-author)
echo "$response" | head -1 | grep -q '^HTTP/1.1 200 ' || fail "GET /hello/plugin-author: $response"
echo "$response" | grep -q '^{"greeting":"hello","name":"plugin-author"}$' || fail "GET /hello/plugin-author body: $response"
response=$(http_get "$port" /health)
echo "$response" | head -1 | grep -q '^HTTP/1.1 200 ' || fail "GET /health: $response"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the installed server did not exit 0 on SIGTERM"
server_pid=""

step "a plugin built against another plugin API version is refused"
write_ini "$work/build-next/libhello.so" "$work/next.ini"
if start_server "$work/next.ini"; then
  fail "the installed server started with a plugin of API version $next_version"
fi
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 78 ] || { cat "$work/server.log" >&2; fail "exit code $status, not 78"; }
grep -q "built for plugin API version $next_version, this host has $installed_version" "$work/server.log" \
  || { cat "$work/server.log" >&2; fail "no 'built for plugin API version' reason in the log"; }
echo "out-of-tree plugin: built against the installed SDK, served GET /hello/{name}; API $next_version refused" >&2
