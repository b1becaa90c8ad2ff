#!/usr/bin/env bash
# docker-entrypoint-initdb.d of the compose database (runs once, when the data volume is empty):
# a database per service, each with its schema. $POSTGRES_DB (the image made it) is Order Service's;
# $USERS_DB (default users) is created here for User Service, owned by the same role. The migrations are the
# services' own files (mounted at /migrations/<plugin>), all idempotent: each service applies them
# again at start-up and records them in its database's plugin_migrations without changing anything.
set -euo pipefail
users_db=${USERS_DB:-users}
psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)

if [ "$users_db" != "$POSTGRES_DB" ]; then
  echo "initdb: CREATE DATABASE $users_db OWNER $POSTGRES_USER"
  "${psql[@]}" --dbname postgres --set db="$users_db" --set owner="$POSTGRES_USER" <<<'CREATE DATABASE :"db" OWNER :"owner";'
fi

apply() {  # DATABASE FOLDER
  for file in "$2"/*.sql; do
    echo "initdb: $1 <- $file"
    "${psql[@]}" --dbname "$1" --quiet -f "$file"
  done
}
apply "$POSTGRES_DB" /migrations/orders
apply "$users_db" /migrations/users
