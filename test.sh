#!/usr/bin/env bash
# Runs every test of placette: the Go tests, then the journeys in a real
# browser (Debian's chromium, installed here when it is missing), each page
# of them audited with axe-core (installed here from npm, at the version
# internal/browsertest/testdata/axe/package-lock.json pins, when it is missing).
# Extra arguments go to both "go test" runs (for example -race, -count=1).
set -euo pipefail
cd "$(dirname "$0")"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v /usr/bin/chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  apt_install chromium
fi

axe=internal/browsertest/testdata/axe
axe_version() { (cd "$axe" && node -p "$1" 2>/dev/null) || true; }
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ] ||
  [ "$(axe_version "require('./node_modules/axe-core/package.json').version")" != \
    "$(axe_version "require('./package-lock.json').packages['node_modules/axe-core'].version")" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "installing Debian's npm for axe-core"
    apt_install npm
  fi
  echo "installing axe-core for the browser tests' accessibility audits"
  (cd "$axe" && npm ci --no-audit --no-fund)
fi

go test "$@" ./...
go test -tags browser "$@" ./internal/browsertest/
