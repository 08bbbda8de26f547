#!/usr/bin/env bash
# Builds the local development servers from the Go module proxy into
# .cache/tools/<name>-<version>/, once per version.
#
#   tools/build.sh            build every server that is missing
#   tools/build.sh temporal   build one of: temporal etcd kube-apiserver kwok
#
# Each server lives in its own Go module under tools/ so that their dependency
# graphs never mix. Builds use the machine's Go (GOTOOLCHAIN=local) and no cgo.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="${FIREBREAK_TOOLS_CACHE:-$root/.cache/tools}"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

# name|module folder|version|package|binary names (space separated)
servers=(
  "temporal|tools/temporal|github.com/temporalio/cli|github.com/temporalio/cli/cmd/temporal|temporal"
  "etcd|tools/etcd|go.etcd.io/etcd/server/v3|go.etcd.io/etcd/server/v3|etcd"
  "kube-apiserver|tools/kube-apiserver|k8s.io/kubernetes|k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager|kube-apiserver kube-controller-manager"
  "kwok|tools/kwok|sigs.k8s.io/kwok|sigs.k8s.io/kwok/cmd/kwok|kwok"
)

module_version() {
  (cd "$root/$1" && go list -m -f '{{.Version}}' "$2")
}

ldflags_for() {
  local name=$1 version=$2
  case "$name" in
    kube-apiserver)
      local v=${version#v} pkg=k8s.io/component-base/version
      echo "-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=${v%%.*} -X $pkg.gitMinor=$(echo "$v" | cut -d. -f2) -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
      ;;
    kwok)
      echo "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$version"
      ;;
    *) echo "-s -w" ;;
  esac
}

build_one() {
  local name=$1 dir=$2 module=$3 packages=$4 binaries=$5
  local version out
  version=$(module_version "$dir" "$module")
  out="$cache/$name-$version"

  local missing=0
  for b in $binaries; do [ -x "$out/$b" ] || missing=1; done
  if [ "$missing" = 0 ]; then
    echo "tools: $name $version is built in $out"
    return
  fi

  echo "tools: building $name $version (first run only; several minutes on 2 cores)"
  local started=$SECONDS tmp="$out.partial"
  rm -rf "$tmp" && mkdir -p "$tmp"
  local pkgs=($packages) bins=($binaries)
  for i in "${!pkgs[@]}"; do
    (cd "$root/$dir" && go build -trimpath -ldflags "$(ldflags_for "$name" "$version")" -o "$tmp/${bins[$i]}" "${pkgs[$i]}")
  done
  rm -rf "$out" && mv "$tmp" "$out"
  echo "tools: built $name $version in $((SECONDS - started)) s"
}

wanted=("$@")
for entry in "${servers[@]}"; do
  IFS='|' read -r name dir module packages binaries <<<"$entry"
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  build_one "$name" "$dir" "$module" "$packages" "$binaries"
done
