# Sourced by .ci/run: installs PostgreSQL (Debian) if missing, starts a throwaway cluster on
# 127.0.0.1 and exports EXPORTSPS_TEST_POSTGRES for the PostgreSQL catalog tests.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
pg_port=${EXPORTSPS_PG_PORT:-54329}
# A port nothing listens on (a developer may already run a cluster there).
while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
pg_data=$(mktemp -d /tmp/exportsps-pg.XXXXXX)
chown postgres:postgres "$pg_data"
su postgres -c "$pg_bin/initdb -D '$pg_data' -A trust -U postgres --no-sync" >/dev/null
su postgres -c "$pg_bin/pg_ctl -D '$pg_data' -o \"-c listen_addresses=127.0.0.1 -p $pg_port -k /tmp -c fsync=off -c max_connections=200\" -l '$pg_data/log' -w start" >/dev/null
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE exportsps_test" >/dev/null
export EXPORTSPS_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=exportsps_test;Pooling=true;Maximum Pool Size=50"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"
