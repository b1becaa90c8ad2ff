#!/bin/sh
# Writes the database line and the auth file from DB_HOST, DB_PORT, DB_NAME, DB_USER and
# DB_PASSWORD, then runs PgBouncer in the foreground.
set -eu
printf '[databases]\n%s = host=%s port=%s dbname=%s\n' \
  "$DB_NAME" "${DB_HOST:-db}" "${DB_PORT:-5432}" "$DB_NAME" >/tmp/pgbouncer-databases.ini
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" >/tmp/pgbouncer-users.txt
chmod 600 /tmp/pgbouncer-users.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
