#!/usr/bin/env bash
# Does a rolling restart of the docker-compose.scale.yml replicas drop anything? Keeps a steady
# POST + GET load through HAProxy on 127.0.0.1 (each POST with its own Idempotency-Key, repeated
# with the same key after a connection error) while it restarts every order-service replica one
# after another (SIGTERM, then start), then kill -9's one replica. Verdict:
#   - graceful restarts: responses other than 2xx = 0
#   - after the kill -9: every key that received a 201 replays the same order_id, that order
#     exists, and the orders table holds exactly one row per key (none missing, none doubled).
#
#   ../shared/compose/compose.sh -f docker-compose.scale.yml up --build -d --scale order-service=3
#   scripts/rolling-restart-check.sh            exit 0 when the verdict holds, 1 otherwise
#
# Containers are handled with podman (what ../shared/compose/compose.sh runs compose on; its state
# folder is COMPOSE_STATE, default /var/tmp/compose-state). Bounded: at most about 3 minutes.
# Settings (environment): URL (http://127.0.0.1:8080), WORKERS (4), SETTLE_S (4: load before,
# between and after the restarts), STOP_TIMEOUT_S (25: before podman sends SIGKILL).
set -euo pipefail
url=${URL:-http://127.0.0.1:8080}
workers=${WORKERS:-4}
settle=${SETTLE_S:-4}
stop_timeout=${STOP_TIMEOUT_S:-25}
state=${COMPOSE_STATE:-/var/tmp/compose-state}
export CONTAINERS_CONF=$state/containers.conf CONTAINERS_STORAGE_CONF=$state/storage.conf

work=$(mktemp -d /tmp/rolling-restart.XXXXXX)
trap 'touch "$work/stop"; wait; rm -rf "$work"' EXIT
say() { echo "rolling-restart: $*"; }
# The phase each logged order belongs to; replaced at once, so that no worker reads it half-written.
set_phase() { echo "$1" >"$work/phase.new" && mv "$work/phase.new" "$work/phase"; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# podman without its output; Podman here has no systemd and says so on every start and stop.
quietly() { podman "$@" 2>&1 >/dev/null | grep -v 'systemd connection' >&2 || true; }
replicas() { podman ps --filter label=com.docker.compose.service=order-service --format '{{.ID}}' | sort; }
db_container() { podman ps --filter label=com.docker.compose.service=db --format '{{.ID}}' | head -1; }
sql() { podman exec "$(db_container)" psql -U "${POSTGRES_USER:-orders}" -d "${POSTGRES_DB:-orders}" -tAc "$1"; }
# Replicas HAProxy reports UP (its stats CSV: svname, status in column 18).
up_count() { curl -s --max-time 2 "${url%:*}:8404/stats;csv" | awk -F, '$1 == "order-service" && $2 ~ /^replica/ && $18 == "UP"' | wc -l; }

wait_up() {  # COUNT: until HAProxy sees COUNT replicas up, at most 60 s
  for _ in $(seq 120); do
    [ "$(up_count)" -ge "$1" ] && return 0
    sleep 0.5
  done
  say "only $(up_count) of $1 replicas came back up"; return 1
}

# One client: POST (same key again after a connection error, up to 20 times), then GET the order.
# Logs "phase key post_status order_id attempts get_status" per order.
worker() {  # N
  local n=$1 i=0 key status body id attempts get
  while [ ! -e "$work/stop" ]; do
    i=$((i + 1)); key="rr-$$-$n-$i"; attempts=0; status=000
    while [ "$status" = 000 ] && [ $attempts -lt 20 ]; do
      attempts=$((attempts + 1))
      body=$(curl -s --max-time 5 -o - -w '\n%{http_code}' -X POST "$url/orders" -H 'Content-Type: application/json' \
        -H "Idempotency-Key: $key" -d '{"user_id":7,"product_id":8,"quantity":1}') || body=$'\n000'
      status=${body##*$'\n'}
      [ "$status" = 000 ] && sleep 0.2
    done
    id=$(sed -n 's/.*"order_id":\([0-9]*\).*/\1/p' <<<"${body%$'\n'*}")
    get=-
    [ -n "$id" ] && get=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/orders/$id" || echo 000)
    echo "$(cat "$work/phase") $key $status ${id:--} $attempts $get" >>"$work/worker-$n.log"
  done
}

[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$url/health/ready")" = 200 ] || { say "no ready service behind $url"; exit 2; }
mapfile -t ids < <(replicas)
[ ${#ids[@]} -ge 2 ] || { say "need at least 2 order-service replicas, found ${#ids[@]}"; exit 2; }
wait_up "${#ids[@]}"
first_id=$(sql "SELECT COALESCE(MAX(id), 0) FROM orders")
say "${#ids[@]} replicas, $workers clients, orders after id $first_id"

set_phase graceful
for n in $(seq "$workers"); do worker "$n" & done
sleep "$settle"
for id in "${ids[@]}"; do
  started=$(date +%s.%N)
  quietly stop -t "$stop_timeout" "$id"
  stopped=$(date +%s.%N)
  quietly start "$id"
  wait_up "${#ids[@]}"
  say "restarted $id: stop took $(seconds "$started" "$stopped") s, back in rotation after $(seconds "$started" "$(date +%s.%N)") s"
  sleep 1
done
sleep "$settle"

set_phase kill
victim=${ids[0]}
quietly kill -s KILL "$victim"
say "killed $victim with SIGKILL"
sleep 1
podman start "$victim" >/dev/null 2>&1 || true  # unless its restart policy did already
wait_up "${#ids[@]}" || true
sleep "$settle"
touch "$work/stop"
wait

cat "$work"/worker-*.log >"$work/all.log"
total=$(wc -l <"$work/all.log")
graceful=$(awk '$1 == "graceful"' "$work/all.log" | wc -l)
graceful_bad=$(awk '$1 == "graceful" && ($3 !~ /^2/ || ($6 != "-" && $6 !~ /^2/))' "$work/all.log" | wc -l)
graceful_retried=$(awk '$1 == "graceful" && $5 > 1' "$work/all.log" | wc -l)
kill_bad=$(awk '$1 == "kill" && ($3 !~ /^2/ || ($6 != "-" && $6 !~ /^2/))' "$work/all.log" | wc -l)
kill_retried=$(awk '$1 == "kill" && $5 > 1' "$work/all.log" | wc -l)
say "requests: $total orders (each a POST and a GET); during the graceful restarts: $graceful, of which not 2xx: $graceful_bad, POSTs repeated after a connection error: $graceful_retried"
say "around the kill -9: not 2xx: $kill_bad, POSTs repeated after a connection error: $kill_retried"
awk '$3 !~ /^2/ || ($6 != "-" && $6 !~ /^2/) {print "rolling-restart:   " $0}' "$work/all.log" | head -10

# Every key once more: a key that had a 201 must replay the same order; one that did not gets
# its order now, so that afterwards each key has exactly one.
changed=0; missing=0
while read -r _ key status id _; do
  again=$(curl -s --max-time 5 -X POST "$url/orders" -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
    -d '{"user_id":7,"product_id":8,"quantity":1}' | sed -n 's/.*"order_id":\([0-9]*\).*/\1/p')
  echo "$again" >>"$work/replayed"
  if [ "$status" = 201 ] && [ "$again" != "$id" ]; then changed=$((changed + 1)); fi
done <"$work/all.log"
while read -r _ _ status id _; do
  [ "$status" = 201 ] || continue
  [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/orders/$id")" = 200 ] || missing=$((missing + 1))
done <"$work/all.log"
keys=$(sort -u "$work/replayed" | grep -c . || true)
rows=$(sql "SELECT COUNT(*) FROM orders WHERE id > $first_id")
say "keys: $total; acknowledged (201) keys that replay another order_id: $changed; acknowledged orders missing: $missing"
say "rows created: $rows for $keys distinct orders of $total keys"

if [ "$graceful_bad" -eq 0 ] && [ "$changed" -eq 0 ] && [ "$missing" -eq 0 ] && [ "$rows" -eq "$total" ] && [ "$keys" -eq "$total" ]; then
  say "PASS"
else
  say "FAIL"
  exit 1
fi
