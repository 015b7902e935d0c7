#!/usr/bin/env bash
# Stops the RabbitMQ node scripts/rabbitmq-up.sh started; safe when it is not running. Data stays in the state dir
# (messages in durable queues survive a down/up).
set -euo pipefail
. "$(dirname "$0")/lib/rabbitmq-env.sh"
[ -x "$rabbitmq_bin/rabbitmqctl" ] || exit 0
if rabbitmq_ping; then
  "$rabbitmq_bin/rabbitmqctl" -q stop "$RABBITMQ_PID_FILE" >/dev/null
  echo "rabbitmq-down: stopped $RABBITMQ_NODENAME" >&2
fi
