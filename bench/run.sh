#!/usr/bin/env bash
# Measures Order Service against this machine's own limits, in one run:
#   - wrk on loopback: GET /health, POST /orders, GET /orders/{random of 100,000 preloaded ids},
#     at 32 and 256 keep-alive connections, on PostgreSQL and (separately) on SQLite;
#   - pgbench -M prepared with the service's exact INSERT and SELECT and the same connection count;
#   - nginx returning a fixed 200 (2 workers, keep-alive) and a bare POCO handler
#     (bench/bare_server.cpp), for /health: the HTTP layer's limit on this machine;
#   - POST and GET once more through PgBouncer in pool_mode = transaction ([storage-postgres] pooler =
#     transaction), against the direct path;
#   - context switches per request (perf stat -a) for GET /orders/{id} and pgbench's SELECT;
#   - availability: fresh clients' latency while 10,000 idle keep-alive and 1,000 slowloris
#     connections are held (bench/hold_clients.cpp), and the server's RSS meanwhile.
# Each measurement is repeated; the table shows medians and the ratio service / yardstick.
# The machine is shared and noisy: compare ratios within one run, not absolute numbers across runs.
#
#   bench/run.sh                      BENCH_SECONDS (10) per measurement, BENCH_REPEATS (3),
#                                     BENCH_CONNECTIONS ("32 256 2000"), BUILD_DIR (build-bench),
#                                     BENCH_IDLE (10000), BENCH_SLOWLORIS (1000), BENCH_FRESH (100)
# pgbench runs up to 256 clients (PostgreSQL's max_connections); 2,000 connections have no yardstick.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-10}
repeats=${BENCH_REPEATS:-3}
connection_counts=${BENCH_CONNECTIONS:-"32 256 2000"}
idle_clients=${BENCH_IDLE:-10000}
slowloris_clients=${BENCH_SLOWLORIS:-1000}
build=${BUILD_DIR:-build-bench}
preload=100000
export BENCH_MAX_ID=$preload

scripts/install-deps.sh --bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DORDER_SERVICE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

# The pgbench scripts must run what the repository runs.
for statement in "INSERT INTO orders (user_id, product_id, quantity, status, request_token) VALUES " \
                 " RETURNING id, user_id, product_id, quantity, status" \
                 "id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at)" \
                 " FROM orders WHERE id IN "; do
  grep -qF "$statement" plugins/orders/repository/order_repository.cpp && grep -qF "$statement" bench/pgbench_*.sql \
    || { echo "bench: the pgbench scripts no longer match the repository's SQL: $statement" >&2; exit 1; }
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

postgres=$(scripts/pg-throwaway.sh start "$work/pg")
pgbin=/usr/lib/postgresql/15/bin
"$pgbin/psql" "$postgres" -qc "CREATE DATABASE bench"
bench_db="$postgres dbname=bench"

start_service() {  # NAME PORT CONFIG [VAR=VALUE...]: starts the service (pid in $started), logs to $work/NAME.log
  local name=$1 port=$2 config=$3; shift 3
  env ORDER_SERVICE_SERVER_PORT="$port" ORDER_SERVICE_SERVER_HOST=127.0.0.1 "$@" \
    "$build/bin/order-service" --config="$config" >"$work/$name.log" 2>&1 &
  started=$!
  pids+=("$started")
  wait_for "http://127.0.0.1:$port/health"
}

pg_port=$(free_port 18180)
start_service postgres "$pg_port" config/order-service.postgres.ini \
  ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION="$bench_db connect_timeout=2"
pg_pid=$started
"$pgbin/psql" "$bench_db" -qc "INSERT INTO orders (user_id, product_id, quantity)
  SELECT 1 + (random() * 999999)::int, 1 + (random() * 9999)::int, 1 + (random() * 9)::int
  FROM generate_series(1, $preload)" -c "VACUUM ANALYZE orders"

pgbouncer=$(scripts/pgbouncer-throwaway.sh start "$work/pgbouncer" "$(cat "$work/pg/port")")
pooled_port=$(free_port 18480)
start_service pgbouncer "$pooled_port" config/order-service.postgres.ini \
  ORDER_SERVICE_STORAGE_POSTGRES_CONNECTION="$pgbouncer dbname=bench connect_timeout=2" ORDER_SERVICE_STORAGE_POSTGRES_POOLER=transaction

sqlite_port=$(free_port 18280)
mkdir -p "$work/sqlite"
start_service sqlite "$sqlite_port" config/order-service.ini ORDER_SERVICE_STORAGE_SQLITE_DATABASE="$work/sqlite/orders.db"
sqlite_pid=$started
sqlite3 "$work/sqlite/orders.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $preload)
  INSERT INTO orders (user_id, product_id, quantity) SELECT 1 + abs(random()) % 1000000, 1 + abs(random()) % 10000,
  1 + abs(random()) % 10 FROM n;"

bare_port=$(free_port 18380)
"$build/bench/bare-server" "$bare_port" 512 >/dev/null 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$bare_port/health"

nginx_port=$(free_port 18480)
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

results=$work/results.tsv
to_ms() {  # wrk latency ("412.00us", "1.20ms", "2.01s") -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000; printf "%.3f", n }'
}

run_wrk() {  # SCENARIO CONNECTIONS URL [LUA]
  local scenario=$1 connections=$2 url=$3 script=${4:-} out
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --timeout 2s --latency ${script:+-s "$script"} "$url")
  local rps p50 p99 socket_errors non2xx
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  socket_errors=$(awk -F'[ ,]+' '/Socket errors/ { print $4 + $6 + $8 + $10 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$connections" "$rps" "$p50" "$p99" \
    "$(( ${socket_errors:-0} + ${non2xx:-0} ))" >>"$results"
}

# Context switches of the whole machine per request while `command` runs (perf stat -a).
switches_per_request() {  # SCENARIO COMMAND... (the command prints its request count last)
  local scenario=$1 out requests switches; shift
  out=$(perf stat -a -e context-switches -x, -o "$work/perf.txt" "$@")
  requests=$(tail -1 <<<"$out")
  switches=$(awk -F, '/context-switches/ { print $1 }' "$work/perf.txt")
  printf '%s\t%s\n' "$scenario" "$(awk -v s="$switches" -v r="$requests" 'BEGIN { printf "%.2f", s / r }')" >>"$work/switches.tsv"
}

wrk_requests() {  # wrk's output -> its request count
  awk '/requests in/ { print $1 }'
}

run_pgbench() {  # SCENARIO CONNECTIONS SCRIPT
  local scenario=$1 connections=$2 script=$3 out logs=$work/pgbench-log
  rm -rf "$logs" && mkdir -p "$logs"
  out=$(cd "$logs" && "$pgbin/pgbench" -n -M prepared -c "$connections" -j 2 -T "$seconds" -l \
    -f "$OLDPWD/$script" "$bench_db" 2>&1)
  local tps latencies
  tps=$(awk '/^tps = / { print $3 }' <<<"$out")
  latencies=$(cat "$logs"/pgbench_log.* | awk '{ print $3 / 1000 }' | sort -n)
  local count p50 p99
  count=$(wc -l <<<"$latencies")
  p50=$(sed -n "$(( count / 2 + 1 ))p" <<<"$latencies")
  p99=$(sed -n "$(( count * 99 / 100 + 1 ))p" <<<"$latencies")
  local failed
  failed=$(awk '/number of failed transactions/ { print $5 }' <<<"$out")
  printf '%s\t%s\t%s\t%.3f\t%.3f\t%s\n' "$scenario" "$connections" "$tps" "$p50" "$p99" "${failed:-0}" >>"$results"
}

echo "bench: $repeats x ${seconds}s per measurement, connections: $connection_counts" >&2
for repeat in $(seq "$repeats"); do
  for connections in $connection_counts; do
    echo "bench: repeat $repeat, $connections connections" >&2
    run_wrk "nginx /health" "$connections" "http://127.0.0.1:$nginx_port/health"
    run_wrk "bare POCO /health" "$connections" "http://127.0.0.1:$bare_port/health"
    run_wrk "GET /health" "$connections" "http://127.0.0.1:$pg_port/health"
    run_wrk "POST /orders (PostgreSQL)" "$connections" "http://127.0.0.1:$pg_port" bench/post_order.lua
    [ "$connections" -le 256 ] && run_pgbench "pgbench INSERT" "$connections" bench/pgbench_insert.sql
    run_wrk "GET /orders/{id} (PostgreSQL)" "$connections" "http://127.0.0.1:$pg_port" bench/get_order.lua
    [ "$connections" -le 256 ] && run_pgbench "pgbench SELECT" "$connections" bench/pgbench_select.sql
    run_wrk "POST /orders (PgBouncer)" "$connections" "http://127.0.0.1:$pooled_port" bench/post_order.lua
    run_wrk "GET /orders/{id} (PgBouncer)" "$connections" "http://127.0.0.1:$pooled_port" bench/get_order.lua
    run_wrk "POST /orders (SQLite)" "$connections" "http://127.0.0.1:$sqlite_port" bench/post_order.lua
    run_wrk "GET /orders/{id} (SQLite)" "$connections" "http://127.0.0.1:$sqlite_port" bench/get_order.lua
  done
done

echo "bench: context switches per request, 32 connections" >&2
switches_per_request "GET /orders/{id} (PostgreSQL)" bash -c "wrk -t2 -c32 -d${seconds}s -s bench/get_order.lua \
  http://127.0.0.1:$pg_port | awk '/requests in/ { print \$1 }'"
switches_per_request "GET /health" bash -c "wrk -t2 -c32 -d${seconds}s http://127.0.0.1:$pg_port/health \
  | awk '/requests in/ { print \$1 }'"
switches_per_request "nginx /health" bash -c "wrk -t2 -c32 -d${seconds}s http://127.0.0.1:$nginx_port/health \
  | awk '/requests in/ { print \$1 }'"
switches_per_request "pgbench SELECT" bash -c "'$pgbin/pgbench' -n -M prepared -c 32 -j 2 -T $seconds \
  -f bench/pgbench_select.sql '$bench_db' 2>/dev/null | awk '/number of transactions actually processed/ { print \$NF }' \
  | cut -d/ -f1"

# Availability: a service of its own, so that the held connections meet no other load.
echo "bench: holding $idle_clients idle and $slowloris_clients slowloris connections" >&2
hold_port=$(free_port 18580)
mkdir -p "$work/hold"
start_service hold "$hold_port" config/order-service.ini ORDER_SERVICE_STORAGE_SQLITE_DATABASE="$work/hold/orders.db" \
  ORDER_SERVICE_SERVER_KEEP_ALIVE_TIMEOUT_MS=120000 ORDER_SERVICE_SERVER_RECEIVE_TIMEOUT_MS=120000 \
  ORDER_SERVICE_SERVER_MAX_CONNECTIONS=$((idle_clients + slowloris_clients + 1000))
hold_pid=$started
availability=$("$build/bench/hold-clients" "$hold_port" "$hold_pid" "$idle_clients" "$slowloris_clients" "${BENCH_FRESH:-100}")

peak_rss() { awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status"; }

# Medians per scenario and connection count, and each service figure over its yardstick.
echo
echo "| scenario | conns | req/s | p50 ms | p99 ms | errors | ratio |"
echo "|---|---:|---:|---:|---:|---:|---|"
awk -F'\t' '
  function median(list,   n, values, i, j, t) {
    n = split(list, values, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (values[j] + 0 < values[i] + 0) { t = values[i]; values[i] = values[j]; values[j] = t }
    return values[int((n + 1) / 2)]
  }
  {
    key = $1 SUBSEP $2
    if (!(key in rps)) order[++keys] = key
    rps[key] = rps[key] " " $3; p50[key] = p50[key] " " $4; p99[key] = p99[key] " " $5; errors[key] += $6
  }
  END {
    yardstick["GET /health"] = "nginx /health"
    yardstick["bare POCO /health"] = "nginx /health"
    yardstick["POST /orders (PostgreSQL)"] = "pgbench INSERT"
    yardstick["GET /orders/{id} (PostgreSQL)"] = "pgbench SELECT"
    yardstick["POST /orders (PgBouncer)"] = "POST /orders (PostgreSQL)"
    yardstick["GET /orders/{id} (PgBouncer)"] = "GET /orders/{id} (PostgreSQL)"
    for (k = 1; k <= keys; k++) { split(order[k], part, SUBSEP); m[order[k]] = median(rps[order[k]]) }
    for (k = 1; k <= keys; k++) {
      split(order[k], part, SUBSEP)
      ratio = ""
      if (part[1] in yardstick) {
        base = yardstick[part[1]] SUBSEP part[2]
        if (base in m && m[base] > 0) ratio = sprintf("%.2f x %s", m[order[k]] / m[base], yardstick[part[1]])
      }
      printf "| %s | %s | %.0f | %.2f | %.2f | %d | %s |\n", part[1], part[2], m[order[k]], median(p50[order[k]]), median(p99[order[k]]), errors[order[k]], ratio
    }
  }' "$results"
echo
echo "Context switches per request (whole machine, 32 connections):"
sed 's/^/  /; s/\t/: /' "$work/switches.tsv"
echo
echo "Availability (SQLite service; fresh clients one at a time, each request on a new connection):"
sed 's/^/  /' <<<"$availability"
echo
echo "Peak RSS: service on PostgreSQL $(peak_rss "$pg_pid"), on SQLite $(peak_rss "$sqlite_pid");" \
     "$repeats x ${seconds}s per figure (medians; errors summed); $(nproc) cores shared by wrk, server and database."
