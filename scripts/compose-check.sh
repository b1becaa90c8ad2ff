#!/usr/bin/env bash
# Proves docker-compose.yml: PostgreSQL with a database per service, and order-service and
# user-service from the one image, wired together. Through ../shared/compose/compose.sh (rootful
# Podman behind docker-compose; it builds the local base images the first time):
#   1. up --build; waits until both services answer /health/ready (db and user-service healthy first);
#   2. each service's "Service started" line (service_name, port) and its database's plugin_migrations;
#   3. POST :8081/users -> 201; POST :8080/orders for that user_id -> 201 (and GET it back); for an
#      unknown user_id -> 422 naming /user_id; the X-Request-Id sent with the order in both logs;
#   4. down -v (containers, network and the database volume), also when a step fails.
#
#   scripts/compose-check.sh      exit 0 when every check holds; KEEP=1 leaves the services up
set -euo pipefail
cd "$(dirname "$0")/.."
compose=${COMPOSE_SH:-$(cd .. && pwd)/shared/compose/compose.sh}
state=${COMPOSE_STATE:-/var/tmp/compose-state}
say() { echo "compose-check: $*"; }
failed=false
check() {  # CONDITION-RESULT MESSAGE: prints ok/FAIL and remembers a failure
  if [ "$1" = 0 ]; then say "ok: $2"; else say "FAIL: $2"; failed=true; fi
}
dc() { "$compose" -f docker-compose.yml "$@"; }  # docker-compose on this file, through compose.sh

service_running() { [ -f "$state/service.pid" ] && kill -0 "$(cat "$state/service.pid")" 2>/dev/null; }
started_service=true
if service_running; then started_service=false; fi
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then say "KEEP=1: left up; ../shared/compose/compose.sh down removes it"; return; fi
  dc down -v --remove-orphans >/dev/null 2>&1 || true
  if $started_service; then  # only the Podman API service and health loop this run started
    for f in health service; do
      if [ -f "$state/$f.pid" ]; then kill -- "-$(cat "$state/$f.pid")" 2>/dev/null || true; rm -f "$state/$f.pid"; fi
    done
  fi
}
trap cleanup EXIT

say "up --build (the image builds the whole tree the first time: minutes)"
dc up -d --build 2>&1 | { grep -v 'systemd connection' || true; } | sed 's/^/compose-check:   /'
status() { curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }
for _ in $(seq 120); do
  [ "$(status 8080 /health/ready)" = 200 ] && [ "$(status 8081 /health/ready)" = 200 ] && break
  sleep 1
done
dc ps 2>/dev/null | sed 's/^/compose-check:   /'
for port in 8080 8081; do
  check "$([ "$(status $port /health)" = 200 ] && [ "$(status $port /health/ready)" = 200 ]; echo $?)" \
    "GET :$port/health and /health/ready -> 200"
done

for service in order-service user-service; do
  line=$(dc logs --no-color "$service" 2>/dev/null | grep -m1 '"Service started"' | sed 's/^[^|]*| //' || true)
  say "$service: ${line:-no \"Service started\" line}"
done
# grep reads to the end (no -q): under pipefail, a grep that quits early makes the logs fail on SIGPIPE
check "$(dc logs --no-color user-service 2>/dev/null | grep '"message":"Service started","service_name":"user-service".*"port":8081' >/dev/null; echo $?)" \
  "user-service (the user-service name of the image's executable) logs as user-service on port 8081"
sql() { dc exec -T db psql -U "${POSTGRES_USER:-orders}" -d "$1" -tAc "$2" 2>/dev/null | tr -d '\r'; }
orders_migrations=$(sql "${POSTGRES_DB:-orders}" "SELECT string_agg(plugin || '/' || version, ' ' ORDER BY version) FROM plugin_migrations")
users_migrations=$(sql "${USERS_DB:-users}" "SELECT string_agg(plugin || '/' || version, ' ' ORDER BY version) FROM plugin_migrations")
say "plugin_migrations: database ${POSTGRES_DB:-orders}: $orders_migrations; database ${USERS_DB:-users}: $users_migrations"
check "$([[ $orders_migrations == orders/1* ]] && [[ $users_migrations == users/1 ]]; echo $?)" \
  "each service recorded its own migrations in its own database"

request_id=compose-check-$$-$RANDOM
user=$(curl -s --max-time 5 -w '\n%{http_code}' -X POST http://127.0.0.1:8081/users -H 'Content-Type: application/json' \
  -d "{\"email\":\"$request_id@example.com\",\"name\":\"Compose Check\"}" || true)
user_id=$(sed -n 's/.*"user_id":\([0-9]*\).*/\1/p' <<<"$user")
say "POST :8081/users -> $(tail -1 <<<"$user") $(head -1 <<<"$user")"
check "$([ "$(tail -1 <<<"$user")" = 201 ] && [ -n "$user_id" ]; echo $?)" "POST /users -> 201"
order=$(curl -s --max-time 5 -i -X POST http://127.0.0.1:8080/orders -H 'Content-Type: application/json' \
  -H "X-Request-Id: $request_id" -d "{\"user_id\":${user_id:-0},\"product_id\":456,\"quantity\":2}" | tr -d '\r' || true)
say "POST :8080/orders (user_id ${user_id:-?}, X-Request-Id $request_id) -> $(head -1 <<<"$order") $(tail -1 <<<"$order")"
check "$(head -1 <<<"$order" | grep -q '^HTTP/1.1 201'; echo $?)" "POST /orders for an existing user -> 201"
location=$(sed -n 's/^Location: //Ip' <<<"$order")
stored=$(curl -s --max-time 5 "http://127.0.0.1:8080${location:-/orders/0}" || true)
say "GET :8080${location:-?} -> $stored"
check "$(grep -q "\"user_id\":${user_id:-0},\"product_id\":456" <<<"$stored"; echo $?)" "GET $location returns it"
unknown=$(curl -s --max-time 5 -w '\n%{http_code}' -X POST http://127.0.0.1:8080/orders -H 'Content-Type: application/json' \
  -d '{"user_id":2147483000,"product_id":456,"quantity":2}' || true)
say "POST :8080/orders (user_id 2147483000, none) -> $(tail -1 <<<"$unknown") $(head -1 <<<"$unknown")"
check "$([ "$(tail -1 <<<"$unknown")" = 422 ] && grep -q '"/user_id"' <<<"$unknown"; echo $?)" \
  "POST /orders for an unknown user -> 422 naming /user_id"
for service in order-service user-service; do
  line=$(dc logs --no-color "$service" 2>/dev/null | grep -m1 "\"request_id\":\"$request_id\"" | sed 's/^[^|]*| //' || true)
  say "$service logged: ${line:-nothing with $request_id}"
  check "$([ -n "$line" ]; echo $?)" "X-Request-Id $request_id in $service's log"
done

if $failed; then
  dc logs --no-color --tail=10 2>/dev/null | sed 's/^/compose-check:   /'
  say FAIL
  exit 1
fi
say PASS
