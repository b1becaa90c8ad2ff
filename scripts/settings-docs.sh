#!/usr/bin/env bash
# Regenerates, from the settings schema of the built service (the host and every plugin in
# build/bin/plugins), docs/api.md's settings tables (between <!-- settings:begin --> and
# <!-- settings:end -->) and the comment above each key of config/*.ini.
#
#   scripts/settings-docs.sh           rewrite them
#   scripts/settings-docs.sh --check   change nothing; fail where they differ (ctest settings.*)
#
# Build first (cmake --build build --target order-service orders storage-sqlite storage-postgres);
# BUILD_DIR names another build folder.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
[[ $build == /* ]] || build=$PWD/$build
ini=()
for file in "$root"/config/*.ini; do ini+=(--ini "$file"); done
exec python3 "$root/scripts/settings_docs.py" --binary "$build/bin/order-service" --docs "$root/docs/api.md" "${ini[@]}" "$@"
