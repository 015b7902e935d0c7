#!/usr/bin/env bash
# Stops the cluster scripts/postgres-up.sh started (fast shutdown: open sessions are ended, committed data kept).
# Safe to run when it is not running or was never made. The data stays under the state dir for the next up.
set -euo pipefail

state=${SPOTWISE_STATE_DIR:-/tmp/spotwise-services}/postgres
data=$state/data
[ -s "$data/PG_VERSION" ] || exit 0
bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || exit 0

as_db() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if as_db "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  as_db "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
fi
