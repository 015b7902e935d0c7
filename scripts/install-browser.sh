#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser tests (tests/Spotwise.Dashboard.Tests drive it with
# Playwright, which never downloads a browser of its own here). Idempotent: does nothing when it is installed.
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"

browser=/usr/bin/chromium
[ -x "$browser" ] || apt_install chromium fonts-dejavu-core
echo "chromium: $("$browser" --version 2>/dev/null || echo present)"
