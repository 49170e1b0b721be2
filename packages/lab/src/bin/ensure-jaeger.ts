#!/usr/bin/env node
// Run by scripts/test.sh: makes sure the cached Jaeger (the tracing tests' trace backend) exists,
// building it from the Go module proxy when it does not (about 9 minutes cold on 2 cores).
import { ensureJaegerBinary, JAEGER_VERSION } from '../jaeger/jaeger-toolchain.js';
import { LabError } from '../lab-error.js';

try {
  const { binary } = await ensureJaegerBinary({ log: (line) => process.stderr.write(`[setup] ${line}\n`) });
  process.stderr.write(`[setup] Jaeger ${JAEGER_VERSION} cached at ${binary}\n`);
} catch (error) {
  const message = error instanceof LabError ? `${error.reason}: ${error.message}` : String(error);
  process.stderr.write(`[setup] ${message}\n`);
  process.exitCode = 1;
}
