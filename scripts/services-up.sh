#!/usr/bin/env bash
# Starts every server a scaled-out Spotwise uses (docs/scale-out.md): PostgreSQL (scripts/postgres-up.sh) and RabbitMQ
# (scripts/rabbitmq-up.sh). Passes their `SPOTWISE_*=value` lines through, so
#   eval "$(bash scripts/services-up.sh | grep '^SPOTWISE_' | sed 's/^/export /; s/=\(.*\)$/="\1"/')"
# gives a shell SPOTWISE_STORE and SPOTWISE_AMQP, which `spotwise serve` reads as defaults. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/postgres-up.sh
bash scripts/rabbitmq-up.sh
