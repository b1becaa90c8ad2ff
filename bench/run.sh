#!/usr/bin/env bash
# Measures Order Service against this machine's own limits, in one run:
#   - wrk on loopback, every route: GET /health, GET /orders/{id}, GET /orders?user_id=&limit=20 (the
#     list), POST /orders and POST /orders/{id}/cancel, at 32, 256 and 2,000 keep-alive connections,
#     on PostgreSQL and on SQLite, over 100,000 preloaded orders of 10,000 users;
#   - next to each route its yardstick: pgbench -M prepared running the service's exact SQL (INSERT,
#     SELECT, the list's SELECT, cancel's UPDATE and SELECT) with the same connection count; for
#     /health nginx returning a fixed 200 (2 workers, keep-alive) and a bare POCO handler
#     (bench/bare_server.cpp): the HTTP layer's limit on this machine;
#   - POST and GET once more through PgBouncer in pool_mode = transaction ([storage-postgres] pooler =
#     transaction), against the direct path;
#   - POST once more with each order's user validated by User Service (the same binary, on PostgreSQL,
#     10,000 users; [orders] users_url), against POST without. The cache of known users keeps them
#     BENCH_USERS_CACHE_TTL_MS (300000: the sitting, the steady state of a service whose users come
#     back within the TTL; the shipped 30000 makes every run but the first start half cold here);
#   - context switches per request (perf stat -a) for GET /orders/{id} and pgbench's SELECT, and the
#     service's CPU time per request for GET /orders/{id} and GET /health;
#   - availability: fresh clients' latency while 10,000 idle keep-alive and 1,000 slowloris
#     connections are held (bench/hold_clients.cpp), and the server's RSS meanwhile.
# Each measurement is repeated; the table shows medians of req/s, p50, p99 and p99.9, the largest
# max, the yardstick's same figures and the ratio service / yardstick of req/s, and issue 20's
# latency targets per route (PASS/FAIL, not fatal). Last, a check: a run in which any route's p99
# exceeded 10 x its p50 makes the script exit 1, after everything else is printed.
# The machine is shared and noisy: compare ratios within one run, not absolute numbers across runs.
#
#   bench/run.sh    BENCH_SECONDS (10) per measurement, BENCH_REPEATS (3), BENCH_CONNECTIONS ("32 256 2000"),
#                   BENCH_IDLE (10000), BENCH_SLOWLORIS (1000), BENCH_FRESH (100),
#                   BENCH_ONLY: words that narrow the run, of three kinds: routes (health get list post
#                     cancel), backends (postgres sqlite pgbouncer users), extras (switches availability).
#                     Naming no route means every route, no backend every backend; extras run only
#                     when named; naming only extras measures no route. "list": the list on both
#                     backends and its pgbench; "get list postgres"; "availability".
#                   BENCH_BURST=1: beside the load, one core busy 50 ms every 250 ms
#                   BUILD_DIR (build-bench): where this tree is built
#                   SERVICE_BUILD_DIR: an existing build directory whose bin/order-service is measured
#                     as it is, not rebuilt (this tree's build still provides bench's own programs), so
#                     that two builds can be compared in one sitting
# pgbench runs up to 256 clients (PostgreSQL's max_connections); 2,000 connections have no yardstick.
set -euo pipefail
if [ -n "${SERVICE_BUILD_DIR:-}" ]; then SERVICE_BUILD_DIR=$(realpath -m "$SERVICE_BUILD_DIR"); fi  # from the caller's folder
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-10}
repeats=${BENCH_REPEATS:-3}
connection_counts=${BENCH_CONNECTIONS:-"32 256 2000"}
idle_clients=${BENCH_IDLE:-10000}
slowloris_clients=${BENCH_SLOWLORIS:-1000}
build=${BUILD_DIR:-build-bench}
service_build=${SERVICE_BUILD_DIR:-$build}
preload=100000
users=10000
export BENCH_MAX_ID=$preload BENCH_USERS=$users

all_routes="health get list post cancel"
all_backends="postgres sqlite pgbouncer users"
all_extras="switches availability"
among() { [[ " ${*:2} " == *" $1 "* ]]; }  # WORD LIST...: WORD is one of LIST's words
named() {  # LIST...: the words of BENCH_ONLY that are in LIST
  local word chosen=""
  for word in ${BENCH_ONLY:-}; do
    if among "$word" "$@"; then chosen+=" $word"; fi
  done
  echo "${chosen# }"
}
for word in ${BENCH_ONLY:-}; do
  among "$word" "$all_routes $all_backends $all_extras" \
    || { echo "bench: BENCH_ONLY: '$word' is none of: $all_routes $all_backends $all_extras" >&2; exit 64; }
done
if [ -z "${BENCH_ONLY:-}" ]; then
  routes=$all_routes backends=$all_backends extras=$all_extras
else
  routes=$(named "$all_routes") backends=$(named "$all_backends") extras=$(named "$all_extras")
  if [ -n "$routes$backends" ]; then routes=${routes:-$all_routes} backends=${backends:-$all_backends}; fi
fi
uses() { among "$1" "$routes $backends $extras"; }  # WORD: this run measures it

scripts/install-deps.sh --bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DORDER_SERVICE_BUILD_TESTS=OFF >/dev/null
if [ "$service_build" = "$build" ]; then
  cmake --build "$build" -j"$(nproc)" >/dev/null
else
  cmake --build "$build" -j"$(nproc)" --target bare-server hold-clients >/dev/null
fi
service=$service_build/bin/order-service
[ -x "$service" ] || { echo "bench: $service is missing: SERVICE_BUILD_DIR must be a built build directory" >&2; exit 1; }

# The pgbench scripts must run what the repository runs: each entry names a pgbench script and a
# piece of SQL that both it and the repository's source contain. The repository builds its
# statements from pieces, hence pieces; when the statements move, edit repository_sql and the list.
repository_sql=(plugins/orders/repository/order_statements.h)
order_columns="id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at)"
same_sql=(
  "pgbench_insert.sql|INSERT INTO orders (user_id, product_id, quantity, request_token, status) "
  "pgbench_insert.sql|SELECT batch.user_id, batch.product_id, batch.quantity, batch.request_token, "
  "pgbench_insert.sql| AS batch(user_id, product_id, quantity, request_token) "
  "pgbench_insert.sql|RETURNING id, request_token"
  "pgbench_select.sql|$order_columns"
  "pgbench_select.sql| FROM orders WHERE id = ANY("
  "pgbench_list.sql|$order_columns"
  "pgbench_list.sql| FROM orders WHERE user_id = "
  "pgbench_list.sql| AND id < "
  "pgbench_list.sql| ORDER BY id DESC LIMIT "
  "pgbench_cancel.sql|UPDATE orders SET status = "
  "pgbench_cancel.sql|, updated_at = "
  "pgbench_cancel.sql| WHERE id = "
  "pgbench_cancel.sql| AND status = "
  "pgbench_cancel.sql| FROM orders WHERE id = ANY("
)
for entry in "${same_sql[@]}"; do
  script=bench/${entry%%|*} statement=${entry#*|}
  grep -qF "$statement" "${repository_sql[@]}" && grep -qF "$statement" "$script" \
    || { echo "bench: $script no longer matches the repository's SQL (${repository_sql[*]}): $statement" >&2; exit 1; }
done

work=$(mktemp -d /tmp/order-service-bench.XXXXXX)
chmod 755 "$work"  # the database server runs as postgres
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/pgbouncer-throwaway.sh stop "$work/pgbouncer" >/dev/null 2>&1 || true
  scripts/pg-throwaway.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local port
  for port in $(seq "$1" $(($1 + 100))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  return 1
}

wait_for() {  # URL
  for _ in $(seq 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: $1 did not answer" >&2; return 1
}

start_service() {  # NAME PORT CONFIG [VAR=VALUE...]: starts the service (pid in $started), logs to $work/NAME.log
  local name=$1 port=$2 config=$3; shift 3
  env ORDER_SERVICE_SERVER_PORT="$port" ORDER_SERVICE_SERVER_HOST=127.0.0.1 "$@" \
    "$service" --config="$config" >"$work/$name.log" 2>&1 &
  started=$!
  pids+=("$started")
  wait_for "http://127.0.0.1:$port/health"
}

declare -A service_url backend_label=([postgres]=PostgreSQL [sqlite]=SQLite [pgbouncer]=PgBouncer
                                     [users]="PostgreSQL, users validated")
pgbin=/usr/lib/postgresql/15/bin
pg_pid="" sqlite_pid=""

# The preloads spread the orders' user_id uniformly over 1..$users, as production's, so that a
# user's list is about 10 orders long and its 20 newest come from an index range of its own.
if uses postgres || uses pgbouncer || uses users || uses switches; then
  postgres=$(scripts/pg-throwaway.sh start "$work/pg")
  "$pgbin/psql" "$postgres" -qc "CREATE DATABASE bench"
  bench_db="$postgres dbname=bench"
  pg_port=$(free_port 18180)
  start_service postgres "$pg_port" config/order-service.postgres.ini \
    ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION="$bench_db connect_timeout=2"
  pg_pid=$started
  service_url[postgres]=http://127.0.0.1:$pg_port
  "$pgbin/psql" "$bench_db" -qc "INSERT INTO orders (user_id, product_id, quantity)
    SELECT 1 + floor(random() * $users)::int, 1 + (random() * 9999)::int, 1 + (random() * 9)::int
    FROM generate_series(1, $preload)" -c "VACUUM ANALYZE orders"
fi

if uses pgbouncer && { uses post || uses get; }; then
  pgbouncer=$(scripts/pgbouncer-throwaway.sh start "$work/pgbouncer" "$(cat "$work/pg/port")")
  pooled_port=$(free_port 18480)
  start_service pgbouncer "$pooled_port" config/order-service.postgres.ini \
    ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION="$pgbouncer dbname=bench connect_timeout=2" ORDER_SERVICE_STORAGE_POSTGRES_POOLER=transaction
  service_url[pgbouncer]=http://127.0.0.1:$pooled_port
fi

# User Service on its own database of $users users, and an Order Service that asks it for each
# order's user (through its cache of known users, as shipped).
if uses users && uses post; then
  "$pgbin/psql" "$postgres" -qc "CREATE DATABASE bench_users"
  users_port=$(free_port 18780)
  start_service user-service "$users_port" config/user-service.postgres.ini USER_SERVICE_SERVER_PORT="$users_port" \
    USER_SERVICE_SERVER_HOST=127.0.0.1 USER_SERVICE_STORAGE_POSTGRES_CONNECTION="$postgres dbname=bench_users connect_timeout=2"
  "$pgbin/psql" "$postgres dbname=bench_users" -qc "INSERT INTO users (email, email_lower, name)
    SELECT 'user' || i || '@example.com', 'user' || i || '@example.com', 'User ' || i FROM generate_series(1, $users) AS i"
  validated_port=$(free_port 18880)
  start_service validated "$validated_port" config/order-service.postgres.ini \
    ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION="$bench_db connect_timeout=2" \
    ORDER_SERVICE_ORDERS_USERS_URL="http://127.0.0.1:$users_port" \
    ORDER_SERVICE_ORDERS_USERS_CACHE_TTL_MS="${BENCH_USERS_CACHE_TTL_MS:-300000}"
  service_url[users]=http://127.0.0.1:$validated_port
fi

if uses sqlite; then
  sqlite_port=$(free_port 18280)
  mkdir -p "$work/sqlite"
  start_service sqlite "$sqlite_port" config/order-service.ini ORDER_SERVICE_STORAGE_SQLITE_DATABASE="$work/sqlite/orders.db"
  sqlite_pid=$started
  service_url[sqlite]=http://127.0.0.1:$sqlite_port
  sqlite3 "$work/sqlite/orders.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $preload)
    INSERT INTO orders (user_id, product_id, quantity) SELECT 1 + abs(random()) % $users, 1 + abs(random()) % 10000,
    1 + abs(random()) % 10 FROM n;"
fi

if uses health; then
  bare_port=$(free_port 18380)
  "$build/bench/bare-server" "$bare_port" 512 >/dev/null 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$bare_port/health"
fi

if uses health || uses switches; then
  nginx_port=$(free_port 18680)
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location /health { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
  nginx -c "$work/nginx/nginx.conf" &
  pids+=($!)
  wait_for "http://127.0.0.1:$nginx_port/health"
fi

# A route: its name in the table, the path wrk gets (or a request script of its own), and the
# pgbench script that runs its SQL, the yardstick of the route on PostgreSQL.
declare -A route_label=([health]="GET /health" [get]="GET /orders/{id}" [list]="GET /orders?user_id={user}&limit=20"
                        [post]="POST /orders" [cancel]="POST /orders/{id}/cancel")
declare -A route_path=([health]=/health)
declare -A route_script=([get]=bench/get_order.lua [list]=bench/list_orders.lua [post]=bench/post_order.lua
                         [cancel]=bench/cancel_order.lua)
declare -A route_pgbench=([get]="pgbench SELECT|bench/pgbench_select.sql" [list]="pgbench list|bench/pgbench_list.sql"
                          [post]="pgbench INSERT|bench/pgbench_insert.sql" [cancel]="pgbench cancel|bench/pgbench_cancel.sql")

results=$work/results.tsv
: >"$results"
# One line of $results per measurement, in run $repeat:
#   name, backend (empty for a yardstick), its yardstick's row name, connections, run,
#   req/s, p50, p99, p99.9 and max in ms, errors, timeouts
record() {  # NAME BACKEND YARDSTICK CONNECTIONS REQ/S P50 P99 P99.9 MAX ERRORS TIMEOUTS
  [ $# -eq 11 ] || { echo "bench: $1 $2 at $4 connections gave no figures" >&2; exit 1; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${@:1:4}" "$repeat" "${@:5}" >>"$results"
}

run_wrk() {  # NAME BACKEND YARDSTICK CONNECTIONS URL [REQUEST_SCRIPT]
  local name=$1 backend=$2 yardstick=$3 connections=$4 url=$5 script=$work/wrk.lua figures
  cat ${6:+"$6"} bench/wrk_figures.lua >"$script"
  figures=$(wrk -t2 -c"$connections" -d"${seconds}s" --timeout 2s -s "$script" "$url" \
    | awk '$1 == "bench-figures" { $1 = ""; print }')
  # shellcheck disable=SC2086  # one argument a figure
  record "$name" "$backend" "$yardstick" "$connections" $figures
}

# pgbench's per-transaction log lines (latency in µs, 3rd column) -> "P50 P99 P99.9 MAX" in ms,
# ranked as wrk ranks its own: the value at rank round(p% x count + 0.5).
percentiles() {
  awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n | awk '
    function at(p,   rank) { rank = int(p / 100 * NR + 1); if (rank > NR) rank = NR; return v[rank] / 1000 }
    { v[NR] = $1 }
    END { printf "%.3f %.3f %.3f %.3f\n", at(50), at(99), at(99.9), v[NR] / 1000 }'
}

run_pgbench() {  # NAME CONNECTIONS SCRIPT
  local name=$1 connections=$2 script=$3 out logs=$work/pgbench-log
  rm -rf "$logs" && mkdir -p "$logs"
  out=$(cd "$logs" && "$pgbin/pgbench" -n -M prepared -c "$connections" -j 2 -T "$seconds" -l \
    -f "$OLDPWD/$script" "$bench_db" 2>&1)
  local tps failed
  tps=$(awk '/^tps = / { print $3 }' <<<"$out")
  failed=$(awk '/number of failed transactions/ { print $5 }' <<<"$out")
  if [ -z "$(find "$logs" -name 'pgbench_log.*' -size +0)" ]; then
    echo "bench: $name at $connections connections: no transaction within ${seconds}s (connecting took it all?)" >&2
  fi
  # shellcheck disable=SC2046  # one argument a figure
  record "$name" "" "" "$connections" "$tps" $(cat "$logs"/pgbench_log.* | percentiles) "${failed:-0}" 0
}

measure_yardsticks() {  # ROUTE CONNECTIONS
  local route=$1 connections=$2
  if [ "$route" = health ]; then
    run_wrk "nginx /health" "" "" "$connections" "http://127.0.0.1:$nginx_port/health"
    run_wrk "bare POCO /health" "" "nginx /health" "$connections" "http://127.0.0.1:$bare_port/health"
  elif among postgres "$backends" && [ "$connections" -le 256 ]; then
    run_pgbench "${route_pgbench[$route]%%|*}" "$connections" "${route_pgbench[$route]#*|}"
  fi
}

yardstick_of() {  # ROUTE BACKEND: the row a route on a backend is compared with
  if [ "$1" = health ]; then echo "nginx /health"
  elif [ "$2" = postgres ]; then echo "${route_pgbench[$1]%%|*}"
  elif [ "$2" = pgbouncer ] || [ "$2" = users ]; then echo "${route_label[$1]} (PostgreSQL)"
  fi
}

measure() {  # CONNECTIONS: each selected route, its yardsticks first, then on each selected backend
  local connections=$1 route backend
  for route in $routes; do
    measure_yardsticks "$route" "$connections"
    for backend in $backends; do
      if [ "$backend" = pgbouncer ] && ! among "$route" get post; then continue; fi
      if [ "$backend" = users ] && [ "$route" != post ]; then continue; fi
      run_wrk "${route_label[$route]}" "${backend_label[$backend]}" "$(yardstick_of "$route" "$backend")" \
        "$connections" "${service_url[$backend]}${route_path[$route]:-}" "${route_script[$route]:-}"
    done
  done
}

# BENCH_BURST=1: another program's bursts on a shared machine. Issue 20 found that they bring out
# the list's stalls every time.
start_burst() {
  (while true; do timeout 0.05 sh -c 'while :; do :; done' || true; sleep 0.2; done) &
  burst_pid=$!
  pids+=("$burst_pid")
}
stop_burst() { kill -TERM "$burst_pid"; wait "$burst_pid" 2>/dev/null || true; }

if [ -n "$routes" ]; then
  echo "bench: $repeats x ${seconds}s per measurement, connections: $connection_counts;" \
       "routes: $routes; backends: $backends${BENCH_BURST:+; burst: $BENCH_BURST}" >&2
  if [ "${BENCH_BURST:-0}" = 1 ]; then start_burst; fi
  for repeat in $(seq "$repeats"); do
    for connections in $connection_counts; do
      echo "bench: run $repeat, $connections connections" >&2
      measure "$connections"
    done
  done
  if [ "${BENCH_BURST:-0}" = 1 ]; then stop_burst; fi
fi

cpu_ticks() {  # PID: the user and system CPU time of the process so far, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Context switches of the whole machine per request while `command` runs (perf stat -a), and the
# CPU time the service (PID; - for a yardstick) spent per request meanwhile.
switches_per_request() {  # SCENARIO PID COMMAND... (the command prints its request count last)
  local scenario=$1 pid=$2 out requests switches ticks=0 cpu=-; shift 2
  [ "$pid" = - ] || ticks=$(cpu_ticks "$pid")
  out=$(perf stat -a -e context-switches -x, -o "$work/perf.txt" "$@")
  requests=$(tail -1 <<<"$out")
  switches=$(awk -F, '/context-switches/ { print $1 }' "$work/perf.txt")
  if [ "$pid" != - ]; then
    cpu=$(awk -v t="$(($(cpu_ticks "$pid") - ticks))" -v hz="$(getconf CLK_TCK)" -v r="$requests" \
      'BEGIN { printf "%.1f", t / hz * 1000000 / r }')
  fi
  printf '%s\t%s\t%s\n' "$scenario" "$(awk -v s="$switches" -v r="$requests" 'BEGIN { printf "%.2f", s / r }')" \
    "$cpu" >>"$work/switches.tsv"
}

if uses switches; then
  echo "bench: context switches per request, 32 connections" >&2
  switches_per_request "GET /orders/{id} (PostgreSQL)" "$pg_pid" bash -c "wrk -t2 -c32 -d${seconds}s -s bench/get_order.lua \
    http://127.0.0.1:$pg_port | awk '/requests in/ { print \$1 }'"
  switches_per_request "GET /health" "$pg_pid" bash -c "wrk -t2 -c32 -d${seconds}s http://127.0.0.1:$pg_port/health \
    | awk '/requests in/ { print \$1 }'"
  switches_per_request "nginx /health" - bash -c "wrk -t2 -c32 -d${seconds}s http://127.0.0.1:$nginx_port/health \
    | awk '/requests in/ { print \$1 }'"
  switches_per_request "pgbench SELECT" - bash -c "'$pgbin/pgbench' -n -M prepared -c 32 -j 2 -T $seconds \
    -f bench/pgbench_select.sql '$bench_db' 2>/dev/null | awk '/number of transactions actually processed/ { print \$NF }' \
    | cut -d/ -f1"
fi

# Availability: a service of its own, so that the held connections meet no other load.
if uses availability; then
  echo "bench: holding $idle_clients idle and $slowloris_clients slowloris connections" >&2
  hold_port=$(free_port 18580)
  mkdir -p "$work/hold"
  start_service hold "$hold_port" config/order-service.ini ORDER_SERVICE_STORAGE_SQLITE_DATABASE="$work/hold/orders.db" \
    ORDER_SERVICE_SERVER_KEEP_ALIVE_TIMEOUT_MS=120000 ORDER_SERVICE_SERVER_RECEIVE_TIMEOUT_MS=120000 \
    ORDER_SERVICE_SERVER_MAX_CONNECTIONS=$((idle_clients + slowloris_clients + 1000))
  hold_pid=$started
  availability=$("$build/bench/hold-clients" "$hold_port" "$hold_pid" "$idle_clients" "$slowloris_clients" "${BENCH_FRESH:-100}")
fi

peak_rss() { awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status"; }

# Per route (or yardstick) and connection count: medians of the runs, the largest max, the
# yardstick's figures, and issue 20's targets, met in every run or not.
print_table() {
  echo "| scenario | conns | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | ratio | yardstick p50 / p99 / p99.9 / max ms | issue 20 targets |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
  awk -F'\t' '
    function median(list,   n, values, i, j, t) {
      n = split(list, values, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (values[j] + 0 < values[i] + 0) { t = values[i]; values[i] = values[j]; values[j] = t }
      return values[int((n + 1) / 2)]
    }
    # At 32 connections: p99 <= 10 ms, p99.9 <= 50 ms, nothing over 250 ms; at 256: p99 <= 10 x p50.
    function targets(key, connections,   failed) {
      if (!is_route[key]) return ""
      if (connections == 32) {
        if (worst_p99[key] > 10) failed = failed sprintf(", p99 %.1f > 10", worst_p99[key])
        if (worst_p999[key] > 50) failed = failed sprintf(", p99.9 %.1f > 50", worst_p999[key])
        if (max[key] > 250) failed = failed sprintf(", max %.0f > 250", max[key])
        if (timeouts[key] > 0) failed = failed sprintf(", %d timed out", timeouts[key])
        return failed == "" ? "PASS" : "FAIL" substr(failed, 2)
      }
      if (connections == 256)
        return worst_ratio[key] > 10 ? sprintf("FAIL p99 %.1f > 10 x p50 %.2f", ratio_p99[key], ratio_p50[key]) : "PASS"
      return "-"
    }
    {
      scenario = $2 == "" ? $1 : $1 " (" $2 ")"
      key = scenario SUBSEP $4
      if (!(key in rps)) order[++keys] = key
      is_route[key] = $2 != ""
      yardstick[key] = $3 == "" ? "" : $3 SUBSEP $4
      rps[key] = rps[key] " " $6; p50[key] = p50[key] " " $7; p99[key] = p99[key] " " $8; p999[key] = p999[key] " " $9
      if ($10 + 0 > max[key]) max[key] = $10 + 0
      if ($8 + 0 > worst_p99[key]) worst_p99[key] = $8 + 0
      if ($9 + 0 > worst_p999[key]) worst_p999[key] = $9 + 0
      if ($7 > 0 && $8 / $7 > worst_ratio[key]) { worst_ratio[key] = $8 / $7; ratio_p50[key] = $7; ratio_p99[key] = $8 }
      errors[key] += $11; timeouts[key] += $12
    }
    END {
      for (k = 1; k <= keys; k++) {
        key = order[k]; split(key, part, SUBSEP); base = yardstick[key]
        ratio = ""; against = ""
        if (base in rps) {
          split(base, name, SUBSEP)
          if (median(rps[base]) > 0) ratio = sprintf("%.2f x %s", median(rps[key]) / median(rps[base]), name[1])
          against = sprintf("%.2f / %.2f / %.2f / %.2f", median(p50[base]), median(p99[base]), median(p999[base]), max[base])
        }
        printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %d | %s | %s | %s |\n", part[1], part[2], median(rps[key]),
          median(p50[key]), median(p99[key]), median(p999[key]), max[key], errors[key], ratio, against, targets(key, part[2])
      }
    }' "$results"
}

# The run fails when, in any run, a route's p99 exceeded 10 x its p50 (yardsticks are not checked).
check_p99_within_10x_p50() {
  echo "Check: p99 <= 10 x p50 for every route, backend, connection count and run:"
  awk -F'\t' -v runs="$repeats" '
    $2 != "" {
      checked++
      if ($8 > 10 * $7) {
        failed++
        printf "  FAIL %s on %s, %s connections, run %s of %s: p50 %.2f ms, p99 %.2f ms > 10 x p50 = %.2f ms\n", $1, $2, $4, $5, runs, $7, $8, 10 * $7
      }
    }
    END { if (failed) exit 1; printf "  PASS (%d measurements)\n", checked }' "$results"
}

if [ -s "$results" ]; then
  echo
  print_table
fi
if uses switches; then
  echo
  echo "Per request, 32 connections: context switches (whole machine); the service's CPU time in µs:"
  awk -F'\t' '{ printf "  %s: %s switches, %s µs\n", $1, $2, $3 }' "$work/switches.tsv"
fi
if uses availability; then
  echo
  echo "Availability (SQLite service; fresh clients one at a time, each request on a new connection):"
  sed 's/^/  /' <<<"$availability"
fi
rss=""
if [ -n "$pg_pid" ]; then rss+=" on PostgreSQL $(peak_rss "$pg_pid")"; fi
if [ -n "$sqlite_pid" ]; then rss+="${rss:+,} on SQLite $(peak_rss "$sqlite_pid")"; fi
burst=""
if [ "${BENCH_BURST:-0}" = 1 ]; then burst="; the CPU burst (BENCH_BURST=1) ran beside the load"; fi
echo
if [ -n "$rss" ]; then echo "Peak RSS of the service:$rss."; fi
if [ -s "$results" ]; then echo "$repeats x ${seconds}s per figure (medians; max: the largest; errors summed)."; fi
echo "$(nproc) cores shared by wrk, server and database; service: $service$burst."
if [ -s "$results" ]; then
  echo
  check_p99_within_10x_p50 || { echo "bench: failed: p99 > 10 x p50 on a route (lines above)" >&2; exit 1; }
fi
