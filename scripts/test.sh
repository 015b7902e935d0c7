#!/usr/bin/env bash
# The one test command (README "Test"; .ci/run calls exactly this). On a fresh Debian machine it installs what the
# tests need when it is missing, starts the servers the tests talk to, runs `dotnet test Spotwise.slnx` (extra
# arguments are passed through, e.g. `--filter FullyQualifiedName~Limits`), lints the served OpenAPI document
# (scripts/openapi-lint.sh), stops the servers again whatever happened, and ends with one line:
# `tests: N passed, N failed, N skipped`. Exits non-zero when a step fails, any test fails, no test ran, or the lint
# finds an error.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The dashboard's browser tests use Debian's Chromium; Playwright must never try to fetch a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# Servers the tests talk to, started in this order and stopped in reverse. Each NAME has scripts/NAME-up.sh (starts
# it, installing it first when missing; returns once it answers) and scripts/NAME-down.sh (stops it; safe to run
# when it is not running). An up script may print `SPOTWISE_NAME=value` lines (how to reach what it started): they
# are exported to the tests. Later issues add theirs here, e.g. (slurm services).
services=(slurm services)

# Tests that need one of those servers skip when it was not started (a plain `dotnet test` on a laptop); under this
# script a missing server is a failure instead, so CI can never pass by skipping them.
export SPOTWISE_REQUIRE_SERVICES=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test: no dotnet on PATH; install the .NET SDK named in global.json" >&2
  exit 1
fi

echo "== browser (Chromium for the dashboard tests)"
bash scripts/install-browser.sh

echo "== curl (the on-instance agent's tests run its script)"
bash scripts/install-curl.sh

started=()
stop_services() {
  local status=$? i
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    echo "== stop ${started[i]}"
    bash "scripts/${started[i]}-down.sh" || echo "test: scripts/${started[i]}-down.sh failed" >&2
  done
  exit "$status"
}
trap stop_services EXIT
# Interrupted or killed: exit normally, so the EXIT trap stops the servers.
trap 'exit 130' INT
trap 'exit 143' TERM

for name in "${services[@]}"; do
  for script in "scripts/$name-up.sh" "scripts/$name-down.sh"; do
    [ -f "$script" ] || { echo "test: service '$name' has no $script" >&2; exit 1; }
  done
  echo "== start $name"
  # Registered before it starts: a start that fails half way is stopped too.
  started+=("$name")
  out=$(mktemp)
  bash "scripts/$name-up.sh" | tee "$out"
  while IFS= read -r line; do
    # A value may be single-quoted so that a shell can eval the line (a connection string holds ';').
    value=${line#*=}
    if [[ $value == \'*\' ]]; then value=${value:1:${#value}-2}; fi
    export "${line%%=*}=$value"
  done < <(grep -E '^SPOTWISE_[A-Z0-9_]+=' "$out" || true)
  rm -f "$out"
done

echo "== dotnet test Spotwise.slnx $*"
log=$(mktemp)
status=0
dotnet test Spotwise.slnx "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}

# The OpenAPI document the server serves must pass redocly's recommended rules (the tests built the server).
echo "== openapi: redocly lint on /openapi/v1.json"
lint=0
bash scripts/openapi-lint.sh || lint=$?

# One plain closing line over all test projects, for readers of CI logs.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  echo "test: dotnet test exited $status with $failed failing test(s)" >&2
  exit 1
fi
if [ "$lint" -ne 0 ]; then
  echo "test: redocly lint found errors in /openapi/v1.json (scripts/openapi-lint.sh)" >&2
  exit 1
fi
if [ "$passed" -eq 0 ]; then
  echo "test: no test ran" >&2
  exit 1
fi
