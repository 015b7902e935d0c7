#!/usr/bin/env bash
# Starts Spotwise's own PostgreSQL cluster for the tests and the bench (docs/scale-out.md): Debian's PostgreSQL
# (installed when missing), a cluster of our own under the state dir, listening on 127.0.0.1 and a non-default port
# with its unix socket in the state dir, so it never touches a system cluster on 5432. Trust auth for the `spotwise`
# role (the cluster's superuser: tests create a database per test class) and a `spotwise` database. Idempotent:
# an existing cluster is reused, a running one left running. Prints the line the tests and `serve` read:
#   SPOTWISE_STORE=Host=127.0.0.1;Port=55432;Database=spotwise;Username=spotwise
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"

port=${SPOTWISE_POSTGRES_PORT:-55432}
state=${SPOTWISE_STATE_DIR:-/tmp/spotwise-services}/postgres
data=$state/data

apt_install postgresql
bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "postgres-up: no pg_ctl under /usr/lib/postgresql" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, the cluster belongs to Debian's `postgres` user.
as_db() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

mkdir -p "$state"
[ "$(id -u)" -eq 0 ] && chown postgres: "$state"

if [ ! -s "$data/PG_VERSION" ]; then
  as_db "$bin/initdb" -D "$data" -U spotwise --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$state/initdb.log"
  # Loopback and our own socket dir only. fsync and synchronous_commit stay at their (durable) defaults: the store's
  # acknowledgement of a submission means it is on disk.
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$state'
max_connections = 200
CONF
fi

if ! as_db "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  as_db "$bin/pg_ctl" -D "$data" -l "$state/postgres.log" -w -t 60 start >/dev/null
fi

for _ in $(seq 1 120); do
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U spotwise && break
  sleep 0.5
done
"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U spotwise || {
  echo "postgres-up: PostgreSQL on 127.0.0.1:$port did not answer within 60 s; see $state/postgres.log" >&2
  exit 1
}

psql=("$bin/psql" -h 127.0.0.1 -p "$port" -U spotwise -d postgres -v ON_ERROR_STOP=1 -qtA)
if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'spotwise'")" != "1" ]; then
  "${psql[@]}" -c "CREATE DATABASE spotwise OWNER spotwise"
fi

# Quoted: the connection string holds ';', so the line is safe for a shell's eval (scripts/test.sh strips the quotes).
echo "SPOTWISE_STORE='Host=127.0.0.1;Port=$port;Database=spotwise;Username=spotwise'"
