#!/usr/bin/env bash
# A disposable PostgreSQL 15 server on 127.0.0.1, for tests and benchmarks.
#
#   scripts/pg-throwaway.sh start DIR [PORT]   initialises DIR (a copy of a cluster initialised once), starts
#                                              the server (a free port of 55432-55531, tried in random order,
#                                              unless PORT is given) and prints its libpq
#                                              connection string: host=127.0.0.1 port=... user=postgres dbname=postgres
#                                              A DIR started before is started again, on its port.
#   scripts/pg-throwaway.sh stop DIR           stops it, fast (DIR can then be deleted or started again)
#
# PostgreSQL refuses to run as root: as root the server runs as the postgres user.
# Extra server settings can be given in PG_OPTIONS, e.g. PG_OPTIONS="-c max_connections=300".
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
command=${1:?usage: $0 start|stop DIR [PORT]}
dir=${2:?usage: $0 start|stop DIR [PORT]}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# --no-sync: a throwaway need not survive a machine crash, and syncing its files took 2 of
# initdb's 3 s.
initdb_options=(-U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync)
initdb_into() { as_owner "$bin/initdb" -D "$1" "${initdb_options[@]}" >"$dir/initdb.log"; }

# Every server starts as a copy of one cluster initialised once per machine, user, version and
# initdb options: initdb takes 1.5 s of CPU, a copy 0.1 s (the tests that restart a database of
# their own start one each). It is made aside and renamed into place, so that no copy is taken of
# a half-made one, and used only when the server's owner made it; otherwise (or when it cannot be
# made) DIR gets an initdb of its own.
initialise() {
  local owner tag template fresh
  owner=$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)
  tag=$({ "$bin/postgres" --version; echo "${initdb_options[*]}"; } | md5sum | cut -c1-12)
  template=${TMPDIR:-/tmp}/order-service-pg-template-$owner-$tag
  if [ ! -f "$template/global/pg_control" ] && fresh=$(mktemp -d "$template.XXXXXX"); then
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$fresh"
    if initdb_into "$fresh/data"; then
      mv -T "$fresh/data" "$template" 2>/dev/null || true  # another start made it meanwhile: as good
    fi
    rm -rf "$fresh"
  fi
  if [ -f "$template/global/pg_control" ] && [ ! -L "$template" ] && [ "$(stat -c %U "$template")" = "$owner" ]; then
    cp -a "$template" "$dir/data"
  else
    initdb_into "$dir/data"
  fi
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_on() {  # PORT: starts the server of $dir on PORT and remembers the port
  echo "$1" >"$dir/port"
  # shellcheck disable=SC2086
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories='$dir' -c max_connections=400 ${PG_OPTIONS:-}" \
    start >/dev/null
}

case "$command" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    [ -d "$dir/data" ] || initialise
    port=${3:-}
    [ -z "$port" ] && [ -f "$dir/port" ] && port=$(cat "$dir/port")
    if [ -n "$port" ]; then
      start_on "$port"
    else
      # Another server may take a free port between the check and the start: then try the next.
      # Random order: a test that stops its server and starts it again on the same port is not
      # robbed of it by the next server started on this machine (other test runs included).
      for candidate in $(shuf -i 55432-55531); do
        port_is_free "$candidate" || continue
        if start_on "$candidate" 2>/dev/null; then port=$candidate; break; fi
      done
      [ -f "$dir/data/postmaster.pid" ] || { echo "pg-throwaway: could not start; see $dir/server.log" >&2; exit 69; }
    fi
    echo "host=127.0.0.1 port=$port user=postgres dbname=postgres"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 64
    ;;
esac
