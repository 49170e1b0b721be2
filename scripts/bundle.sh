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
pnpm --filter @herdless/cli deploy --prod --legacy --offline --config.confirmModulesPurge=false --reporter=silent "$out"
