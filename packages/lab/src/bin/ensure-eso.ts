#!/usr/bin/env node
// Run by scripts/test.sh: makes sure the cached External Secrets Operator v0.20.4 (the reference
// controller of the side-by-side and differential e2e tests) exists, building it from the Go module
// proxy when it does not (about 5 minutes cold on 2 cores).
import { ensureEsoBinary, ESO_VERSION } from '../eso/index.js';
import { LabError } from '../lab-error.js';

try {
  const eso = await ensureEsoBinary({ log: (line) => process.stderr.write(`[setup] ${line}\n`) });
  process.stderr.write(`[setup] ESO ${ESO_VERSION} cached at ${eso.binary}${eso.built ? ` (built in ${Math.round(eso.elapsedMs / 1000)} s)` : ''}\n`);
} catch (error) {
  const message = error instanceof LabError ? `${error.reason}: ${error.message}` : String(error);
  process.stderr.write(`[setup] ${message}\n`);
  process.exitCode = 1;
}
