#!/usr/bin/env bash
# Proves the Debian package on a fresh debian:bookworm-slim, in Podman (../shared/compose/compose.sh
# installs it and builds that image locally the first time):
#   1. builds order-service_<version>_amd64.deb (scripts/deb-build.sh) and runs lintian on the .debs;
#   2. in a new container: apt-get install ./order-service_*.deb (dependencies from the mirror);
#   3. user-service.service installed but not enabled, order-service.service enabled; starts each unit's
#      ExecStart as the order-service user (setpriv; no systemd in the container), Order Service with
#      ORDER_SERVICE_ORDERS_USERS_URL=http://127.0.0.1:8081, then POST /users, POST /orders for that
#      user (201) and for an unknown one (422), GET /orders/{id}, on the installed defaults (SQLite in
#      /var/lib/order-service);
#   4. apt-get remove: the (changed) configuration and the data stay, and a reinstall uses them;
#      apt-get purge: both are gone, as policy says; the system user stays.
# With --with-dev it also installs order-service-dev and builds examples/out-of-tree-plugin against /usr.
#
#   scripts/deb-check.sh [--with-dev]
set -euo pipefail
cd "$(dirname "$0")/.."
with_dev=false
if [ "${1:-}" = "--with-dev" ]; then with_dev=true; fi

deb=$(scripts/deb-build.sh)
debs=$(dirname "$deb")
echo "deb-check: $(basename "$deb")" >&2

echo "deb-check: lintian" >&2
# --fail-on error: warnings are listed, errors fail the check
lintian --fail-on error --allow-root "$debs"/order-service*_amd64.deb

compose=${COMPOSE_SH:-$(cd .. && pwd)/shared/compose/compose.sh}
state=${COMPOSE_STATE:-/var/tmp/compose-state}
service_running() { [ -f "$state/service.pid" ] && kill -0 "$(cat "$state/service.pid")" 2>/dev/null; }
started_service=true
if service_running; then started_service=false; fi
"$compose" version >/dev/null   # Podman, and the local debian:bookworm-slim image (once)
export CONTAINERS_CONF=$state/containers.conf CONTAINERS_STORAGE_CONF=$state/storage.conf
stop_compose_helpers() {  # only the Podman API service and health loop this run started
  if $started_service; then
    for f in health service; do
      if [ -f "$state/$f.pid" ]; then kill -- "-$(cat "$state/$f.pid")" 2>/dev/null || true; rm -f "$state/$f.pid"; fi
    done
  fi
}
trap stop_compose_helpers EXIT

echo "deb-check: install, serve, remove and purge in debian:bookworm-slim" >&2
podman run --rm -v "$debs:/debs:ro" -v "$(pwd)/examples:/examples:ro" \
  -e WITH_DEV="$with_dev" docker.io/library/debian:bookworm-slim bash -euo pipefail -c '
fail() { echo "deb-check: FAIL: $*" >&2; exit 1; }
ok() { echo "deb-check: ok: $*" >&2; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
cd /debs
apt-get install -y -qq --no-install-recommends ./order-service_*_amd64.deb >/dev/null
ok "apt-get install ./$(ls order-service_*_amd64.deb)"
apt-get install -y -qq --no-install-recommends curl >/dev/null

getent passwd order-service | grep -q ":/var/lib/order-service:/usr/sbin/nologin$" || fail "no system user order-service"
[ "$(stat -c "%U:%G %a" /var/lib/order-service)" = "order-service:order-service 750" ] \
  || fail "/var/lib/order-service is $(stat -c "%U:%G %a" /var/lib/order-service)"
unit=/lib/systemd/system/order-service.service
users_unit=/lib/systemd/system/user-service.service
for setting in User=order-service ProtectSystem=strict ReadWritePaths=/var/lib/order-service NoNewPrivileges=yes PrivateTmp=yes; do
  grep -qx "$setting" "$unit" || fail "$unit lacks $setting"
  grep -qx "$setting" "$users_unit" || fail "$users_unit lacks $setting"
done
[ "$(readlink /usr/bin/user-service)" = order-service ] || fail "/usr/bin/user-service is not a link to order-service"
wants=/etc/systemd/system/multi-user.target.wants
[ -L $wants/order-service.service ] || fail "order-service.service is not enabled"
[ ! -e $wants/user-service.service ] || fail "user-service.service is enabled; it should only be installed"
[ -f /etc/order-service/user-service.ini ] || fail "no /etc/order-service/user-service.ini"
for backend in sqlite postgresql; do  # [plugins] migrations: <root>/<plugin>/<backend>/
  [ -f /usr/share/order-service/migrations/orders/$backend/001_create_orders_table.sql ] \
    || fail "no /usr/share/order-service/migrations/orders/$backend/"
done
grep -qx "migrations = /usr/share/order-service/migrations" /etc/order-service/order-service.ini \
  || fail "/etc/order-service/order-service.ini does not name the migrations root"
ok "user, data folder, units (order-service enabled, user-service not), /usr/bin/user-service -> order-service, migrations in place"

cd /var/lib/order-service
# setpriv execs the daemon itself (runuser would stay its parent and re-raise the SIGTERM),
# with User=, Group= and NoNewPrivileges= of the unit
run_unit() {  # UNIT LOG [VARIABLE=VALUE...]: its ExecStart in the background, as its User=
  local exec_start
  exec_start=$(sed -n "s/^ExecStart=//p" "$1")
  echo "deb-check: starting $exec_start as order-service" >&2
  env "${@:3}" setpriv --reuid=order-service --regid=order-service --init-groups --no-new-privs -- $exec_start >"$2" 2>&1 &
}
wait_ready() {  # PORT LOG
  for _ in $(seq 100); do curl -fsS "localhost:$1/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "localhost:$1/health/ready" | grep -q "\"backend\":\"sqlite\"" || { cat "$2"; fail "not ready on SQLite on port $1"; }
}
run_unit "$users_unit" /tmp/user-service.log
users_pid=$!
wait_ready 8081 /tmp/user-service.log
run_unit "$unit" /tmp/service.log ORDER_SERVICE_ORDERS_USERS_URL=http://127.0.0.1:8081
pid=$!
wait_ready 8080 /tmp/service.log
grep -q "\"service_name\":\"user-service\"" /tmp/user-service.log || fail "/usr/bin/user-service does not log as user-service"

user=$(curl -sS -i -X POST localhost:8081/users -H "Content-Type: application/json" -d "{\"email\":\"deb@example.com\",\"name\":\"Deb Check\"}")
echo "$user" | head -1 | grep -q "^HTTP/1.1 201" || fail "POST /users: $user"
user_id=$(echo "$user" | sed -n "s/.*\"user_id\":\([0-9]*\).*/\1/p")
ok "POST /users -> 201, user_id $user_id"
created=$(curl -sS -i -X POST localhost:8080/orders -H "Content-Type: application/json" -H "X-Request-Id: deb-check-order" \
  -d "{\"user_id\":$user_id,\"product_id\":456,\"quantity\":2}")
echo "$created" | head -1 | grep -q "^HTTP/1.1 201" || fail "POST /orders: $created"
location=$(echo "$created" | tr -d "\r" | sed -n "s/^Location: //Ip")
order=$(curl -fsS "localhost:8080$location") || fail "GET $location"
echo "$order" | grep -q "\"user_id\":$user_id,\"product_id\":456,\"quantity\":2,\"status\":\"created\"" || fail "GET $location: $order"
ok "POST /orders -> 201 $location; GET $location -> $order"
for log in /tmp/service.log /tmp/user-service.log; do
  grep -q "\"request_id\":\"deb-check-order\"" $log || fail "X-Request-Id deb-check-order not in $log"
done
ok "X-Request-Id deb-check-order in the logs of both services"
refused=$(curl -sS -i -X POST localhost:8080/orders -H "Content-Type: application/json" \
  -d "{\"user_id\":2147483000,\"product_id\":456,\"quantity\":2}")
echo "$refused" | head -1 | grep -q "^HTTP/1.1 422" && echo "$refused" | grep -q "\"/user_id\"" || fail "POST /orders, unknown user: $refused"
ok "POST /orders for an unknown user -> 422 naming /user_id"
for db in orders users; do
  [ "$(stat -c %U /var/lib/order-service/$db.db)" = order-service ] || fail "$db.db not owned by order-service"
done
kill -TERM $pid $users_pid
wait $pid || { cat /tmp/service.log; fail "order-service did not exit 0 on SIGTERM"; }
wait $users_pid || { cat /tmp/user-service.log; fail "user-service did not exit 0 on SIGTERM"; }
ok "SIGTERM: both exit 0; /var/lib/order-service/orders.db and users.db owned by order-service"

if [ "$WITH_DEV" = true ]; then
  apt-get install -y -qq --no-install-recommends /debs/order-service-dev_*_amd64.deb >/dev/null
  cmake -S /examples/out-of-tree-plugin -B /tmp/hello -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build /tmp/hello >/dev/null
  ok "order-service-dev: examples/out-of-tree-plugin built against /usr"
  sed "/^\[plugins\]/a route.hello = /tmp/hello/libhello.so" /etc/order-service/order-service.ini >/tmp/hello.ini
  setpriv --reuid=order-service --regid=order-service --init-groups --no-new-privs -- \
    /usr/bin/order-service --config=/tmp/hello.ini >/tmp/service.log 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -fsS localhost:8080/health >/dev/null 2>&1 && break; sleep 0.1; done
  hello=$(curl -fsS localhost:8080/hello/debian) || { cat /tmp/service.log; fail "GET /hello/debian"; }
  [ "$hello" = "{\"greeting\":\"hello\",\"name\":\"debian\"}" ] || fail "GET /hello/debian: $hello"
  kill -TERM $pid
  wait $pid || { cat /tmp/service.log; fail "the daemon with the example plugin did not exit 0"; }
  ok "the packaged daemon loads it with one .ini line: GET /hello/debian -> $hello"
  apt-get purge -y -qq order-service-dev >/dev/null
fi

echo "; changed by the administrator" >>/etc/order-service/order-service.ini
apt-get remove -y -qq order-service >/dev/null
[ ! -e /usr/bin/order-service ] || fail "remove left /usr/bin/order-service"
[ ! -L /usr/bin/user-service ] || fail "remove left /usr/bin/user-service"
grep -q "^; changed by the administrator" /etc/order-service/order-service.ini \
  || fail "remove deleted or replaced the changed configuration (conffiles stay until purge)"
[ -f /var/lib/order-service/orders.db ] || fail "remove deleted the orders (data stays until purge)"
dpkg -l order-service | grep -q "^rc" || fail "order-service is not in state rc after remove"
ok "remove: binary gone; the changed /etc/order-service/order-service.ini and orders.db kept"
apt-get install -y -qq --no-install-recommends /debs/order-service_*_amd64.deb >/dev/null
grep -q "^; changed by the administrator" /etc/order-service/order-service.ini || fail "reinstall replaced the changed configuration"
[ "$(stat -c %U /var/lib/order-service/orders.db)" = order-service ] || fail "reinstall lost orders.db"
ok "reinstall: the changed configuration and orders.db are used again"

apt-get purge -y -qq order-service >/dev/null
[ ! -e /etc/order-service ] || fail "purge left /etc/order-service: $(ls -la /etc/order-service)"
[ ! -e /var/lib/order-service ] || fail "purge left /var/lib/order-service"
if dpkg -s order-service >/dev/null 2>&1; then fail "dpkg still knows order-service after purge"; fi
getent passwd order-service >/dev/null || fail "purge removed the system user"
ok "purge: /etc/order-service and /var/lib/order-service gone (the system user stays, as Debian does)"
'
echo "deb-check: passed" >&2
