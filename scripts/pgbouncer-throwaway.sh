#!/usr/bin/env bash
# A disposable PgBouncer (Debian's, 1.18) in pool_mode = transaction on 127.0.0.1, in front of a
# PostgreSQL such as scripts/pg-throwaway.sh starts; for tests and benchmarks.
#
#   scripts/pgbouncer-throwaway.sh start DIR PG_PORT [PORT]   writes DIR/pgbouncer.ini, starts it
#                         (a free port of 56432-56531 unless PORT is given) and prints its libpq
#                         connection string: host=127.0.0.1 port=... user=postgres dbname=postgres
#                         Every database name is passed through to the server on PG_PORT.
#   scripts/pgbouncer-throwaway.sh stop DIR                   stops it
#
# Like PostgreSQL, it runs as the postgres user when started as root. Extra [pgbouncer] settings
# can be given in PGBOUNCER_OPTIONS, one "key = value" a line.
set -euo pipefail
command=${1:?usage: $0 start DIR PG_PORT [PORT] | stop DIR}
dir=${2:?usage: $0 start DIR PG_PORT [PORT] | stop DIR}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() {  # PG_PORT PORT
  # auth_type = any: the throwaway server trusts 127.0.0.1, and each database line names the user.
  # ignore_startup_parameters: libpq clients send extra_float_digits, which 1.18 refuses otherwise.
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$1 user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $2
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
log_connections = 0
log_disconnections = 0
${PGBOUNCER_OPTIONS:-}
EOF
}

start_on() {  # PG_PORT PORT: starts PgBouncer on PORT; false when it does not listen there within 10 s
  write_config "$1" "$2"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/pgbouncer.ini"
  as_owner /usr/sbin/pgbouncer -q -d "$dir/pgbouncer.ini" || return 1
  for attempt in $(seq 100); do
    port_is_free "$2" || return 0
    [ "$attempt" -gt 10 ] && ! running && return 1  # it exited (e.g. the port was taken)
    sleep 0.1
  done
  stop_running
  return 1
}

stop_running() {
  if running; then
    local pid
    pid=$(cat "$dir/pgbouncer.pid")
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

running() { [ -f "$dir/pgbouncer.pid" ] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; }

case "$command" in
  start)
    pg_port=${3:?usage: $0 start DIR PG_PORT [PORT]}
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    # A port that looked free may be taken before PgBouncer binds it (these ports lie in the
    # kernel's ephemeral range, which other programs' connections use): then try another.
    candidates=${4:-$(shuf -i 56432-56531 | head -20)}
    port=""
    for candidate in $candidates; do
      port_is_free "$candidate" || continue
      if start_on "$pg_port" "$candidate"; then port=$candidate; break; fi
    done
    if [ -z "$port" ]; then
      echo "pgbouncer-throwaway: could not start; its log ($dir/pgbouncer.log) ends:" >&2
      tail -5 "$dir/pgbouncer.log" >&2 2>/dev/null || true
      exit 69
    fi
    echo "host=127.0.0.1 port=$port user=postgres dbname=postgres"
    ;;
  stop)
    stop_running
    ;;
  *)
    echo "usage: $0 start DIR PG_PORT [PORT] | stop DIR" >&2
    exit 64
    ;;
esac
