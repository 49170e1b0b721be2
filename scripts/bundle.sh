#!/usr/bin/env bash
# The production bundle: @herdless/cli with its production dependencies only, as the image
# ships it (deploy/Dockerfile runs this script). Needs `pnpm install` and the build first.
#   bash scripts/bundle.sh <out-dir>        then: node <out-dir>/dist/main.js worker --help
# `pnpm deploy --legacy` copies each workspace package as `pnpm pack` would (its "files"),
# so the lab's commands and packages stay out: @herdless/lab is only a devDependency.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: bundle.sh <out-dir>}"
[ -f "$root/packages/cli/dist/main.js" ] || { echo "bundle.sh: build first (pnpm exec turbo run build)" >&2; exit 2; }
rm -rf "$out"
cd "$root"
# --prefer-offline, not --offline: `pnpm install --frozen-lockfile` caches no registry metadata,
# and deploy needs it, so on a new machine --offline failed (ERR_PNPM_NO_OFFLINE_META) and with it
# every test that runs the bundle; the metadata is fetched once, then read from the cache.
pnpm --filter @herdless/cli deploy --prod --legacy --prefer-offline --config.confirmModulesPurge=false --reporter=silent "$out"
