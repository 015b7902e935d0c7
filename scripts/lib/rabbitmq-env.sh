#!/usr/bin/env bash
# Shared by scripts/rabbitmq-up.sh and scripts/rabbitmq-down.sh (source it): our own RabbitMQ node, separate from any
# system one (its own node name, ports, cookie, data and config), all under the state dir.
state_root=${SPOTWISE_STATE_DIR:-/tmp/spotwise-services}
export RABBITMQ_BASE="$state_root/rabbitmq"
export RABBITMQ_NODENAME=spotwise@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=${SPOTWISE_AMQP_PORT:-56720}
# The Erlang distribution port (rabbitmqctl talks to the node through it); the default would be NODE_PORT + 20000.
export RABBITMQ_DIST_PORT=$((RABBITMQ_NODE_PORT + 1))
export RABBITMQ_MNESIA_BASE="$RABBITMQ_BASE/mnesia"
export RABBITMQ_LOG_BASE="$RABBITMQ_BASE/log"
export RABBITMQ_PID_FILE="$RABBITMQ_BASE/node.pid"
export RABBITMQ_CONFIG_FILE="$RABBITMQ_BASE/rabbitmq.conf"
export RABBITMQ_ADVANCED_CONFIG_FILE="$RABBITMQ_BASE/advanced.config"
export RABBITMQ_ENABLED_PLUGINS_FILE="$RABBITMQ_BASE/enabled_plugins"
export RABBITMQ_CONF_ENV_FILE="$RABBITMQ_BASE/rabbitmq-env.conf"
# The private Erlang cookie lives in HOME/.erlang.cookie: the node and rabbitmqctl share this HOME, nobody else does.
export HOME="$RABBITMQ_BASE/home"
# Debian's /usr/sbin wrappers switch to the rabbitmq system user; the node and our data stay ours instead.
rabbitmq_bin=/usr/lib/rabbitmq/bin
rabbitmq_password_file="$RABBITMQ_BASE/spotwise.password"

rabbitmq_ping() {
  "$rabbitmq_bin/rabbitmq-diagnostics" -q ping >/dev/null 2>&1
}
