#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas to the version that this
# admin-tools image ships. It is safe to run on every start, because temporal-sql-tool keeps an existing
# database, `setup-schema -v 0.0` skips a database that is already past 0.0, and `update-schema` applies
# only the versions that are missing.
#
# Reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD (temporal-sql-tool's own variables),
# plus TEMPORAL_DATABASE and TEMPORAL_VISIBILITY_DATABASE.
set -eu

schema_root=/etc/temporal/schema/postgresql/v12

attempt=0
until nc -z "$SQL_HOST" "$SQL_PORT"; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 60 ]; then
    echo "temporal-schema: PostgreSQL at $SQL_HOST:$SQL_PORT did not accept connections within 60 s" >&2
    exit 1
  fi
  echo "temporal-schema: waiting for PostgreSQL at $SQL_HOST:$SQL_PORT"
  sleep 1
done

setup_database() {
  database=$1
  schema_dir=$2
  echo "temporal-schema: preparing database $database"
  temporal-sql-tool --db "$database" create-database
  temporal-sql-tool --db "$database" setup-schema -v 0.0
  temporal-sql-tool --db "$database" update-schema -d "$schema_root/$schema_dir/versioned"
}

setup_database "$TEMPORAL_DATABASE" temporal
setup_database "$TEMPORAL_VISIBILITY_DATABASE" visibility
echo "temporal-schema: both databases are at the latest schema version"
