#!/usr/bin/env bash
# The whole test suite: set-up (cached), type checks, then every vitest project
# (unit, integration against real Redis, the local control plane and our AWS endpoint, end to end,
# the Helm chart with the real helm).
# Ends with the runner's summary and one plain line "N passed, N failed".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh"
source "$here/scripts/env.sh"
cd "$here"
# The chart's tests run the real helm (v4.3.2) and need upstream CRDs (prometheus-operator, KEDA):
# built and fetched once from the Go module proxy into the cache (about 6 minutes cold on 2 cores).
node packages/lab/dist/bin/ensure-helm.js
# The alert rules' tests run promtool (prometheus v0.316.0), built the same way (about 7 minutes cold).
node packages/lab/dist/bin/ensure-promtool.js
# The ESO side-by-side and differential tests (test/e2e/eso) run the real External Secrets
# Operator v0.20.4, built the same way (about 12 minutes cold on 2 shared cores).
node packages/lab/dist/bin/ensure-eso.js
# The tracing tests send their spans to a real Jaeger (v1.75.0, all-in-one), built the same way (about 9 minutes cold).
node packages/lab/dist/bin/ensure-jaeger.js
pnpm exec turbo run typecheck --output-logs=errors-only
report="$(mktemp -d)/vitest.json"
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" </dev/null || status=$?
node scripts/summary.mjs "$report" || status=1
exit $status
