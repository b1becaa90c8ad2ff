#!/usr/bin/env bash
# docs/api.md's settings tables and the comments of config/*.ini are the schema's, and the check
# that says so fails when they are not.
#
#   settings_docs_test.sh BINARY SOURCE_DIR CASE
#
# CASE: match (the files as they are pass); table-differs, comment-differs, unknown-key (a copy
# changed so must fail, naming the difference).
set -euo pipefail
binary=$1 source=$2 case=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$source/docs/api.md" "$source/config/order-service.ini" "$source/config/order-service.postgres.ini" "$work/"

# Checks the docs and .ini files of `folder` (named so in the messages) against the schema.
check() {
  (cd "$1" && python3 "$source/scripts/settings_docs.py" --check --binary "$binary" --docs "$2/api.md" \
    --ini "$3/order-service.ini" --ini "$3/order-service.postgres.ini")
}

# Runs the check on the changed copies: it must fail and print `expected`.
expect_failure() {
  local expected=$1 output
  if output=$(check "$work" . . 2>&1); then
    echo "the check passed on a changed copy ($case):"; echo "$output"; exit 1
  fi
  grep -qF -- "$expected" <<<"$output" || { echo "expected \"$expected\" in:"; echo "$output"; exit 1; }
  echo "$output"
}

case $case in
  match)
    check "$source" docs config ;;
  table-differs)  # the docs say [server] port ranges from 1
    sed -i '/^| `port` |/s/| 0\.\.65535 |/| 1..65535 |/' "$work/api.md"
    expect_failure "FAIL: ./api.md differs from the settings schema; run scripts/settings-docs.sh" ;;
  comment-differs)  # the comment right above [server] port is not the schema's
    awk '{ line[NR] = $0 } /^port *=/ { line[NR - 1] = "; the port" } END { for (i = 1; i <= NR; i++) print line[i] }' \
      "$source/config/order-service.ini" >"$work/order-service.ini"
    expect_failure "FAIL: ./order-service.ini differs from the settings schema" ;;
  unknown-key)
    printf '\n[server]\nmax_thread = 4\n' >>"$work/order-service.postgres.ini"
    expect_failure "[server] max_thread is not a setting of the schema (did you mean [server] max_threads?)" ;;
  *)
    echo "unknown case $case"; exit 2 ;;
esac
