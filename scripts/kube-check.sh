#!/usr/bin/env bash
# Starts deploy/kubernetes/ with `podman kube play` and checks that both pods (order-service and
# user-service, one image) start, become ready and serve, and that Order Service asks User Service:
# the one way to run real manifests here (it checks no cluster semantics: Service,
# PodDisruptionBudget and HorizontalPodAutoscaler are passed over).
#
#   scripts/kube-check.sh      exit 0 when each pod serves /health and /health/ready with 200,
#                              POST /users creates a user, POST /orders for it answers 201 and for
#                              an unknown user 422, and the request's X-Request-Id is in both logs
#
# Uses the image order-service:latest of the Podman that ../shared/compose/compose.sh sets up
# (built from Dockerfile when missing, which takes minutes) and a throwaway PostgreSQL on
# 127.0.0.1 (scripts/pg-throwaway.sh; database postgres for orders, users for users). The pods share
# the host's network (loopback only), so each ConfigMap's connection is rewritten to that server,
# its [server] section gets host 127.0.0.1 and a free port (the overlays inherit 0.0.0.0:8080 and
# 8081 from the image's files), users-url (the Service http://user-service:8081) becomes User
# Service's port on 127.0.0.1, the container port lists are dropped (host networking has no port
# mappings), and replicas become 1. The probes
# are dropped: Podman turns an httpGet probe into a health check that runs curl inside the
# container, which the image does not have (so the health-check loop of compose.sh would stop the
# pods); the script probes /health and /health/ready from outside.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${COMPOSE_STATE:-/var/tmp/compose-state}
export CONTAINERS_CONF=$state/containers.conf CONTAINERS_STORAGE_CONF=$state/storage.conf
command -v podman >/dev/null && [ -f "$CONTAINERS_CONF" ] || { echo "kube-check: run ../shared/compose/compose.sh once first (it sets up Podman)" >&2; exit 2; }
say() { echo "kube-check: $*"; }
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# What kubectl apply -k would send, when kubectl is at hand (it renders offline): every object once.
if command -v kubectl >/dev/null; then
  rendered=$(kubectl kustomize deploy/kubernetes) || { say "kubectl kustomize deploy/kubernetes failed"; exit 1; }
  say "kubectl kustomize: $(grep '^kind:' <<<"$rendered" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $3; sep=", "}')"
fi

if ! podman image exists order-service:latest; then
  say "building the image order-service:latest"
  podman build -q -t order-service:latest . >/dev/null
fi

work=$(mktemp -d /tmp/kube-check.XXXXXX)
chmod 755 "$work"  # the database server runs as postgres
manifest=$work/order-service.yaml
cleanup() {
  podman kube down "$manifest" >/dev/null 2>&1 || true
  # kube down leaves the volumes made from the ConfigMaps; a later run would mount their old files
  podman volume rm -f order-service-config user-service-config >/dev/null 2>&1 || true
  podman secret rm order-service-db user-service-db >/dev/null 2>&1 || true
  scripts/pg-throwaway.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/pg-throwaway.sh start "$work/pg" >/dev/null
pg_port=$(cat "$work/pg/port")
psql -q "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres" -c 'CREATE DATABASE users'
free_port() { local p=$1; while ! port_is_free "$p"; do p=$((p + 1)); done; echo "$p"; }
port=$(free_port 18480)         # order-service
uport=$(free_port $((port + 1)))  # user-service

# The Secret: Podman 4.3 resolves secretKeyRef from a Podman secret holding a JSON map of keys to
# base64 values (a Secret document in the YAML is stored in a form it cannot read back), so it is
# created beforehand; the test server needs no password, the value proves the reference resolves.
for secret in order-service-db user-service-db; do
  podman secret rm "$secret" >/dev/null 2>&1 || true
  printf '{"password":"%s"}' "$(printf unused | base64)" | podman secret create "$secret" - >/dev/null
done

# What `kubectl apply -k` would apply, adapted to host-network pods: user-service.yaml holds User
# Service's objects, the other files Order Service's.
for file in $(sed -n 's/^  - \(.*\.yaml\)$/\1/p' deploy/kubernetes/kustomization.yaml); do
  if [ "$file" = user-service.yaml ]; then p=$uport db=users; else p=$port db=postgres; fi
  echo "---"
  sed -e "s/^  database-connection: .*/  database-connection: host=127.0.0.1 port=$pg_port dbname=$db user=postgres connect_timeout=2/" \
    -e "s|^  users-url: .*|  users-url: http://127.0.0.1:$uport|" \
    -e "s/^    \[server\]$/&\n    host = 127.0.0.1\n    port = $p/" -e "s/^  replicas: [0-9]*$/  replicas: 1/" \
    -e "/^          ports:/,/containerPort:/d" -e "s/port: http$/port: $p/" \
    -e "/^          startupProbe:/,/^            successThreshold: 1/d" "deploy/kubernetes/$file"
done >"$manifest"
[ "$(grep -c "^      volumes:" "$manifest")" = 2 ] && grep -qx "    port = $port" "$manifest" \
  && grep -qx "    port = $uport" "$manifest" && grep -q "^  users-url: http://127.0.0.1:$uport$" "$manifest" \
  && ! grep -q "Probe:" "$manifest" || { say "cannot adapt the manifests"; exit 2; }

podman volume rm -f order-service-config user-service-config >/dev/null 2>&1 || true  # left by an interrupted run
say "podman kube play --network host (order-service on 127.0.0.1:$port, user-service on $uport, PostgreSQL on $pg_port)"
# (Podman here has no systemd, so it cannot schedule the probes as health checks: it says so.)
podman kube play --network host "$manifest" 2>&1 | grep -v 'systemd connection' | sed 's/^/kube-check:   /'
status() { curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }
for _ in $(seq 60); do
  [ "$(status "$port" /health/ready)" = 200 ] && [ "$(status "$uport" /health/ready)" = 200 ] && break
  sleep 1
done

container_of() { podman ps -a --format '{{.Names}}' | grep "^$1-pod-0-$1" | head -1 || true; }
orders_container=$(container_of order-service)
users_container=$(container_of user-service)
sleep 8  # still serving once the probes have run a few times
failed=false
for service in order-service:$port:$orders_container user-service:$uport:$users_container; do
  IFS=: read -r name p container <<<"$service"
  health=$(status "$p" /health)
  ready=$(status "$p" /health/ready)
  say "pod: $(podman pod ps --format '{{.Name}} {{.Status}}' | grep "^$name-pod" || echo none)"
  say "container $container: user $(podman inspect --format '{{.Config.User}}' "$container" 2>/dev/null)," \
      "read-only root $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container" 2>/dev/null)"
  say "$name GET /health: $health, GET /health/ready: $ready"
  podman logs "$container" 2>&1 | grep -m3 -E '"(Service started|Database schema is current)"' | sed 's/^/kube-check:   /' || true
  [ "$health" = 200 ] && [ "$ready" = 200 ] || failed=true
done

# One request id through both: Order Service sends it on its call to User Service.
request_id=kube-check-$$-$RANDOM
user=$(curl -s --max-time 5 -w ' %{http_code}' -X POST "http://127.0.0.1:$uport/users" \
  -H 'Content-Type: application/json' -d "{\"email\":\"kube-$request_id@example.com\",\"name\":\"Kube Check\"}" || true)
user_id=$(sed -n 's/.*"user_id":\([0-9]*\).*/\1/p' <<<"$user")
say "POST /users: ${user##* } ${user% *}"
post_order() {  # USER_ID [X-Request-Id]: "STATUS BODY"
  local answer
  answer=$(curl -s --max-time 5 -w '\n%{http_code}' -X POST "http://127.0.0.1:$port/orders" -H 'Content-Type: application/json' \
    ${2:+-H "X-Request-Id: $2"} -d "{\"user_id\":$1,\"product_id\":2,\"quantity\":3}" || true)
  echo "$(tail -1 <<<"$answer") $(head -n -1 <<<"$answer")"
}
order=$(post_order "${user_id:-0}" "$request_id")
say "POST /orders for user ${user_id:-?}: $order"
unknown=$(post_order 2147483000)
say "POST /orders for user 2147483000 (none): $unknown"
[[ $order == "201 "* ]] && [[ $unknown == "422 "*'"/user_id"'* ]] || failed=true
for container in "$orders_container" "$users_container"; do
  line=$(podman logs "$container" 2>&1 | grep -m1 "\"request_id\":\"$request_id\"" || true)
  say "$container logged $request_id: ${line:-nothing}"
  [ -n "$line" ] || failed=true
done
if ! $failed; then say PASS; exit 0; fi
for container in "$orders_container" "$users_container"; do
  podman logs "$container" 2>&1 | tail -5 | sed "s/^/kube-check:   $container: /"
done
say FAIL
exit 1
