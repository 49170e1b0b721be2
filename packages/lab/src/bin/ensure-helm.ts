#!/usr/bin/env node
// Run by scripts/test.sh: makes sure the cached helm and the upstream CRDs the chart's tests
// need exist, building and fetching them when they do not. One line when the cache is warm.
import { ensureHelm, HELM_VERSION } from '../helm/helm-toolchain.js';
import { LabError } from '../lab-error.js';

try {
  const result = await ensureHelm({ log: (line) => process.stderr.write(`[setup] ${line}\n`) });
  if (!result.built) process.stderr.write(`[setup] helm ${HELM_VERSION} and the upstream CRDs cached in ${result.dir}\n`);
} catch (error) {
  const message = error instanceof LabError ? `${error.reason}: ${error.message}` : String(error);
  process.stderr.write(`[setup] ${message}\n`);
  process.exitCode = 1;
}
