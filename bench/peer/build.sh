#!/usr/bin/env bash
# Builds Falco Talon, the benchmark peer, from the Go module proxy into
# .cache/bench/falco-talon-<version>/falco-talon, once per pinned version, and
# prints the binary's path. Uses the machine's Go (GOTOOLCHAIN=local), no cgo.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
module=github.com/falcosecurity/falco-talon
version=$(sed -n "s#^require $module \(v[^ ]*\)\$#\1#p" "$root/bench/peer/go.mod")
out="$root/.cache/bench/falco-talon-$version"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

if [ -x "$out/falco-talon" ]; then
  echo "$out/falco-talon"
  exit 0
fi
rm -rf "$out.partial" && mkdir -p "$out.partial"
trap 'rm -rf "$out.partial"' EXIT
(cd "$root/bench/peer" && go build -trimpath -ldflags "-s -w" -o "$out.partial/falco-talon" "$module")
rm -rf "$out" && mv "$out.partial" "$out"
echo "$out/falco-talon"
