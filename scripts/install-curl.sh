#!/usr/bin/env bash
# Installs curl for the on-instance agent's tests (tests/Spotwise.Server.Tests/Attempts/AgentScriptTests run
# src/Spotwise.Compute.Aws/Agent/spotwise-agent.sh, which needs bash and curl, as an EC2 image has them). Idempotent:
# does nothing when curl is there.
set -euo pipefail

if command -v curl >/dev/null 2>&1; then
  echo "curl: $(curl --version | head -n 1)"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1; then
  run=(sudo -n)
else
  echo "install-curl: need root or sudo to install curl with apt-get" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends curl ca-certificates
curl --version | head -n 1
