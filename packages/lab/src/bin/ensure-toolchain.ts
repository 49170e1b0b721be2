#!/usr/bin/env node
// Run by scripts/setup.sh: makes sure the cached control-plane binaries exist, building them
// when they do not. One line when the cache is warm; progress and elapsed time when it builds.
import { ensureControlPlaneBinaries, KUBERNETES_VERSION } from '../toolchain.js';
import { LabError } from '../lab-error.js';

try {
  const result = await ensureControlPlaneBinaries({ log: (line) => process.stderr.write(`[setup] ${line}\n`) });
  if (!result.built) {
    process.stderr.write(`[setup] control plane (Kubernetes ${KUBERNETES_VERSION}) cached in ${result.dir}\n`);
  }
} catch (error) {
  const message = error instanceof LabError ? `${error.reason}: ${error.message}` : String(error);
  process.stderr.write(`[setup] ${message}\n`);
  process.exitCode = 1;
}
