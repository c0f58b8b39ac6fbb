#!/usr/bin/env bash
# Builds the Debian packages of placette for amd64, arm64 and armhf (the
# Raspberry Pi, 32-bit) into dist/, with nfpm v2.43.0 from the Go module
# proxy (newer versions pull modules the proxy refuses).
#
#   deploy/build-deb.sh [VERSION] [ARCH...]     e.g. deploy/build-deb.sh 0.3.0 arm64
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-$(git describe --tags --always 2>/dev/null | sed 's/^v//' || echo 0.0.0)}
shift || true
# Debian versions start with a digit.
case "$version" in [0-9]*) ;; *) version="0.0.0+$version" ;; esac
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 arm64 armhf)

nfpm="go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.43.0"
mkdir -p dist
for arch in "${archs[@]}"; do
	case "$arch" in
	amd64) goenv=(GOARCH=amd64) ;;
	arm64) goenv=(GOARCH=arm64) ;;
	armhf) goenv=(GOARCH=arm GOARM=7) ;; # Debian's armhf: ARMv7, hard float
	*) echo "unknown architecture $arch (amd64, arm64, armhf)" >&2; exit 2 ;;
	esac
	bin="dist/placette-linux-$arch"
	env CGO_ENABLED=0 GOOS=linux "${goenv[@]}" go build -trimpath \
		-ldflags="-s -w -X codeberg.org/placette/placette/internal/app.Version=$version" \
		-o "$bin" ./cmd/placette
	cp "$bin" dist/placette # nfpm.yaml takes it from there
	VERSION="$version" ARCH="$arch" \
		$nfpm package --config deploy/nfpm.yaml --packager deb --target "dist/placette_${version}_${arch}.deb"
done
rm -f dist/placette
ls -l dist/*.deb
