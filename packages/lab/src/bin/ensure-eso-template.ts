#!/usr/bin/env node
// Run by scripts/setup.sh: makes sure the cached WebAssembly build of ESO's template engine (the
// worker's renderer) exists, building it from the Go module proxy when it does not.
import { ensureEsoTemplateWasm } from '../eso/eso-template-wasm.js';
import { LabError } from '../lab-error.js';

try {
  const { path, built, elapsedMs } = await ensureEsoTemplateWasm({ log: (line) => process.stderr.write(`[setup] ${line}\n`) });
  process.stderr.write(`[setup] ESO template engine ${built ? `built in ${Math.round(elapsedMs / 1000)} s` : 'cached'} at ${path}\n`);
} catch (error) {
  const message = error instanceof LabError ? `${error.reason}: ${error.message}` : String(error);
  process.stderr.write(`[setup] ${message}\n`);
  process.exitCode = 1;
}
