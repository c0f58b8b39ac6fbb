#!/usr/bin/env bash
# Runs every test of placette: the Go tests, then the journeys in a real
# browser (Debian's chromium, installed here when it is missing).
# Extra arguments go to both "go test" runs (for example -race, -count=1).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v /usr/bin/chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

go test "$@" ./...
go test -tags browser "$@" ./internal/browsertest/
