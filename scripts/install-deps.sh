#!/usr/bin/env bash
# Installs the Debian bookworm packages Order Service builds with; with --test also those its
# tests need (GoogleTest, PostgreSQL 15, PgBouncer, python3-jsonschema for the OpenAPI check), with
# --bench those of bench/ (wrk, pgbench, nginx, perf), with --package those of scripts/deb-build.sh,
# with --library-choices those of bench/library_choices/run.sh
# and deb-check.sh (dpkg-shlibdeps, file, lintian).
# Installs only what is missing; uses sudo when not run as root.
set -euo pipefail

packages=(ca-certificates cmake g++ make libpoco-dev libpq-dev libboost-dev)
for option in "$@"; do
  case "$option" in
    --test) packages+=(libgtest-dev postgresql-15 postgresql-client-15 pgbouncer python3-jsonschema) ;;
    --bench) packages+=(wrk curl sqlite3 postgresql-15 postgresql-client-15 pgbouncer nginx-light linux-perf) ;;
    --package) packages+=(dpkg-dev file lintian) ;;
    --library-choices) packages+=(prometheus-cpp-dev) ;;  # only bench/library_choices/run.sh compares with it
    *) echo "usage: $0 [--test] [--bench] [--package] [--library-choices]" >&2; exit 64 ;;
  esac
done

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# Only PostgreSQL's programs are wanted: no cluster on port 5432 that nobody asked for.
$sudo mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/order-service.conf >/dev/null
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
