#!/usr/bin/env bash
# Installs what the HTML report test needs: Debian's chromium and playwright-core (used only
# as a DevTools-protocol client for /usr/bin/chromium; it downloads no browser); and tmux, the
# terminal the `watch` view's test runs in.
# Idempotent: does nothing when they are already there.
set -euo pipefail
cd "$(dirname "$0")/browser"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/mermaid ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund
fi

chromium --version
