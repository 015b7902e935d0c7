#!/usr/bin/env bash
# Stops what scripts/services-up.sh started, in reverse order. Safe when nothing runs.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
bash scripts/rabbitmq-down.sh || status=$?
bash scripts/postgres-down.sh || status=$?
exit "$status"
