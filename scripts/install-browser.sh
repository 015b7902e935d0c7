#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser tests (tests/Spotwise.Dashboard.Tests drive it with
# Playwright, which never downloads a browser of its own here). Idempotent: does nothing when it is installed.
set -euo pipefail

browser=/usr/bin/chromium
if [ -x "$browser" ]; then
  echo "chromium: $("$browser" --version 2>/dev/null || echo present)"
  exit 0
fi

packages=(chromium fonts-dejavu-core)
if [ "$(id -u)" -eq 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1; then
  run=(sudo -n)
else
  echo "install-browser: need root or sudo to install ${packages[*]} with apt-get" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
"$browser" --version
