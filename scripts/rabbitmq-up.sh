#!/usr/bin/env bash
# Starts Spotwise's own RabbitMQ node on loopback (127.0.0.1:56720, data under
# ${SPOTWISE_STATE_DIR:-/tmp/spotwise-services}/rabbitmq), installing Debian's rabbitmq-server when missing, and prints
#   SPOTWISE_AMQP=amqp://spotwise:PASSWORD@127.0.0.1:56720/
# A system RabbitMQ, if any, is left alone: ours has its own node name, ports, cookie and config. Idempotent: a
# running node is reused. The password is made once and kept in the state dir (never in git).
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"
apt_install rabbitmq-server
. "$(dirname "$0")/lib/rabbitmq-env.sh"

mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE" "$HOME"
[ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
[ -f "$RABBITMQ_ADVANCED_CONFIG_FILE" ] || echo '[].' >"$RABBITMQ_ADVANCED_CONFIG_FILE"
: >"$RABBITMQ_CONF_ENV_FILE"
cat >"$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 127.0.0.1:$RABBITMQ_NODE_PORT
loopback_users.guest = true
log.console = false
log.file.level = warning
CONF
if [ ! -f "$HOME/.erlang.cookie" ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$HOME/.erlang.cookie")
fi
if [ ! -f "$rabbitmq_password_file" ]; then
  (umask 077; head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$rabbitmq_password_file")
fi
password=$(cat "$rabbitmq_password_file")

if ! rabbitmq_ping; then
  echo "rabbitmq-up: starting node $RABBITMQ_NODENAME on 127.0.0.1:$RABBITMQ_NODE_PORT (data: $RABBITMQ_BASE)" >&2
  "$rabbitmq_bin/rabbitmq-server" -detached >>"$RABBITMQ_LOG_BASE/start.log" 2>&1
  # Bounded wait: await_startup returns once the node has booted (or fails within its timeout).
  for _ in $(seq 1 60); do
    if "$rabbitmq_bin/rabbitmqctl" -q await_startup --timeout 10 >/dev/null 2>&1; then
      break
    fi
  done
  rabbitmq_ping || { echo "rabbitmq-up: the node did not start; see $RABBITMQ_LOG_BASE" >&2; exit 1; }
fi

ctl() { "$rabbitmq_bin/rabbitmqctl" -q "$@"; }
if ctl list_users | awk '{print $1}' | grep -qx spotwise; then
  ctl change_password spotwise "$password" >/dev/null
else
  ctl add_user spotwise "$password" >/dev/null
fi
# Administrator: the tests make their own vhosts and per-team users through it.
ctl set_user_tags spotwise administrator >/dev/null
ctl set_permissions -p / spotwise '.*' '.*' '.*' >/dev/null
echo "SPOTWISE_AMQP=amqp://spotwise:$password@127.0.0.1:$RABBITMQ_NODE_PORT/"
