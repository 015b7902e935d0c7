#!/usr/bin/env bash
# Stops what scripts/slurm-up.sh started: cancels every job, then slurmd, slurmctld and munged, by the pid files under
# the state dir (never by name, so a system Slurm is untouched). Safe when nothing is running.
set -uo pipefail

state="${SPOTWISE_STATE_DIR:-/tmp/spotwise-services}/slurm"
export SLURM_CONF="$state/slurm.conf"

if [ -f "$SLURM_CONF" ] && command -v scancel >/dev/null 2>&1; then
  timeout 10 scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
fi

stop() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}

for pidfile in "$state"/slurmd-*.pid; do
  [ -e "$pidfile" ] && stop "$pidfile"
done
stop "$state/slurmctld.pid"
stop "$state/munge/munged.pid"
echo "slurm-down: stopped"
