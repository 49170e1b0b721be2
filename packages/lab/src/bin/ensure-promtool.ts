#!/usr/bin/env node
// Run by scripts/test.sh: makes sure the cached promtool (the alert rules' checks) exists,
// building it from the Go module proxy when it does not (about 7 minutes cold on 2 cores).
import { ensureGoTool, PROMTOOL } from '../go-tool.js';
import { LabError } from '../lab-error.js';

try {
  const path = await ensureGoTool(PROMTOOL, { log: (line) => process.stderr.write(`[setup] ${line}\n`) });
  process.stderr.write(`[setup] promtool ${PROMTOOL.version} cached at ${path}\n`);
} catch (error) {
  const message = error instanceof LabError ? `${error.reason}: ${error.message}` : String(error);
  process.stderr.write(`[setup] ${message}\n`);
  process.exitCode = 1;
}
