#!/usr/bin/env bash
# Installs curl for the on-instance agent's tests (tests/Spotwise.Server.Tests/Attempts/AgentScriptTests run
# src/Spotwise.Compute.Aws/Agent/spotwise-agent.sh, which needs bash and curl, as an EC2 image has them). Idempotent:
# does nothing when curl is there.
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
curl --version | head -n 1
