#!/usr/bin/env bash
# Lints the OpenAPI document the server serves (docs/server.md#openapi): starts the built Spotwise.Server on a loopback
# port with a throwaway SQLite file, fetches /openapi/v1.json, stops the server, and runs `redocly lint` with its
# recommended rules (redocly.yaml says which rule is configured and why). Installs what is missing: Node.js and npm
# (Debian's), and @redocly/cli at a pinned version into a tools dir (never globally). scripts/test.sh calls it after the
# tests built the server; run alone, it builds the server first when its binary is missing. Exits non-zero when redocly
# reports an error. The document is left at $state/v1.json for reading.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/apt.sh

redocly_version=2.77.0
port=${SPOTWISE_OPENAPI_PORT:-55390}
state=${SPOTWISE_STATE_DIR:-/tmp/spotwise-services}/openapi
tools=${SPOTWISE_TOOLS_DIR:-/tmp/spotwise-tools}/redocly-$redocly_version
server_dll=src/Spotwise.Server/bin/Debug/net10.0/Spotwise.Server.dll

command -v npm >/dev/null 2>&1 || apt_install nodejs npm
redocly=$tools/node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
  echo "openapi-lint: installing @redocly/cli@$redocly_version into $tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "@redocly/cli@$redocly_version" >/dev/null
fi
[ -f "$server_dll" ] || dotnet build src/Spotwise.Server -v quiet -nologo

rm -rf "$state" && mkdir -p "$state"
dotnet "$server_dll" --urls "http://127.0.0.1:$port" --Spotwise:Db="$state/spotwise.db" \
  --Spotwise:ApiKeys=openapi-lint=openapi >"$state/server.log" 2>&1 &
server=$!
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop_server EXIT

# Up to 2 minutes for the server to answer (a loaded CI machine starts it slowly); gone early means it failed.
for _ in $(seq 1 240); do
  curl -fsS -o "$state/v1.json" "http://127.0.0.1:$port/openapi/v1.json" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "openapi-lint: the server exited; its log:" >&2; cat "$state/server.log" >&2; exit 1; }
  sleep 0.5
done
[ -s "$state/v1.json" ] || { echo "openapi-lint: no document from http://127.0.0.1:$port/openapi/v1.json" >&2; exit 1; }
stop_server

echo "openapi-lint: redocly lint (recommended rules, redocly.yaml) on /openapi/v1.json"
# Node 20 draws a deprecation banner from the CLI: it says nothing about the document.
"$redocly" lint --config redocly.yaml "$state/v1.json"
