#!/usr/bin/env bash
# Starts deploy/kubernetes/ with `podman kube play` and checks that the pod starts, becomes ready
# and serves /health: the one way to run real manifests here (it checks no cluster semantics:
# Service, PodDisruptionBudget and HorizontalPodAutoscaler are passed over).
#
#   scripts/kube-check.sh      exit 0 when the pod serves /health and /health/ready with 200
#
# Uses the image order-service:latest of the Podman that ../shared/compose/compose.sh sets up
# (built from Dockerfile when missing, which takes minutes) and a throwaway PostgreSQL on
# 127.0.0.1 (scripts/pg-throwaway.sh). The pod shares the host's network (loopback only), so the
# ConfigMap's connection is rewritten to that server, its [server] section gets host 127.0.0.1
# and a free port (the overlay inherits 0.0.0.0:8080 from the image's base file), the container
# port list is dropped (host networking has no port mappings), and replicas become 1. The probes
# are dropped: Podman turns an httpGet probe into a health check that runs curl inside the
# container, which the image does not have (so the health-check loop of compose.sh would stop the
# pod); the script probes /health and /health/ready from outside.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${COMPOSE_STATE:-/var/tmp/compose-state}
export CONTAINERS_CONF=$state/containers.conf CONTAINERS_STORAGE_CONF=$state/storage.conf
command -v podman >/dev/null && [ -f "$CONTAINERS_CONF" ] || { echo "kube-check: run ../shared/compose/compose.sh once first (it sets up Podman)" >&2; exit 2; }
say() { echo "kube-check: $*"; }
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! podman image exists order-service:latest; then
  say "building the image order-service:latest"
  podman build -q -t order-service:latest . >/dev/null
fi

work=$(mktemp -d /tmp/kube-check.XXXXXX)
chmod 755 "$work"  # the database server runs as postgres
manifest=$work/order-service.yaml
cleanup() {
  podman kube down "$manifest" >/dev/null 2>&1 || true
  podman secret rm order-service-db >/dev/null 2>&1 || true
  scripts/pg-throwaway.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/pg-throwaway.sh start "$work/pg" >/dev/null
pg_port=$(cat "$work/pg/port")
port=18480
while ! port_is_free "$port"; do port=$((port + 1)); done

# The Secret: Podman 4.3 resolves secretKeyRef from a Podman secret holding a JSON map of keys to
# base64 values (a Secret document in the YAML is stored in a form it cannot read back), so it is
# created beforehand; the test server needs no password, the value proves the reference resolves.
podman secret rm order-service-db >/dev/null 2>&1 || true
printf '{"password":"%s"}' "$(printf unused | base64)" | podman secret create order-service-db - >/dev/null

# What `kubectl apply -k` would apply, adapted to a host-network pod.
for file in $(sed -n 's/^  - \(.*\.yaml\)$/\1/p' deploy/kubernetes/kustomization.yaml); do
  echo "---"
  cat "deploy/kubernetes/$file"
done | sed -e "s/^  database-connection: .*/  database-connection: host=127.0.0.1 port=$pg_port dbname=postgres user=postgres connect_timeout=2/" \
  -e "s/^    \[server\]$/&\n    host = 127.0.0.1\n    port = $port/" -e "s/^  replicas: 3/  replicas: 1/" \
  -e "/^          ports:/,/containerPort:/d" -e "s/port: http$/port: $port/" \
  -e "/^          startupProbe:/,/^            successThreshold: 1/d" >"$manifest"
grep -q "^      volumes:" "$manifest" && grep -qx "    port = $port" "$manifest" && ! grep -q "Probe:" "$manifest" \
  || { say "cannot adapt the manifests"; exit 2; }

say "podman kube play --network host (service on 127.0.0.1:$port, PostgreSQL on $pg_port)"
# (Podman here has no systemd, so it cannot schedule the probes as health checks: it says so.)
podman kube play --network host "$manifest" 2>&1 | grep -v 'systemd connection' | sed 's/^/kube-check:   /'
status() { curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$1" || true; }
for _ in $(seq 60); do [ "$(status /health/ready)" = 200 ] && break; sleep 1; done

container=$(podman ps -a --format '{{.Names}}' | grep '^order-service-pod-0-order-service' | head -1 || true)
sleep 8  # still serving once the probes have run a few times
health=$(status /health)
ready=$(status /health/ready)
say "pod: $(podman pod ps --format '{{.Name}} {{.Status}}' | grep order-service || echo none)"
say "container $container: user $(podman inspect --format '{{.Config.User}}' "$container" 2>/dev/null)," \
    "read-only root $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container" 2>/dev/null)"
say "GET /health: $health, GET /health/ready: $ready"
podman logs "$container" 2>&1 | grep -m3 -E '"(Service started|Database schema is current)"' | sed 's/^/kube-check:   /' || true
orders=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/orders" \
  -H 'Content-Type: application/json' -d '{"user_id":1,"product_id":2,"quantity":3}' || true)
say "POST /orders: $orders"
if [ "$health" = 200 ] && [ "$ready" = 200 ] && [ "$orders" = 201 ]; then say PASS; exit 0; fi
podman logs "$container" 2>&1 | tail -5 | sed 's/^/kube-check:   /'
say FAIL
exit 1
