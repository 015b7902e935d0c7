#!/usr/bin/env bash
# Stops what scripts/services-up.sh started, in reverse order. Safe when nothing runs.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
if [ -f scripts/rabbitmq-down.sh ]; then
  bash scripts/rabbitmq-down.sh || status=$?
fi
bash scripts/postgres-down.sh || status=$?
exit "$status"
