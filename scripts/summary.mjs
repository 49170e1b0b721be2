// Prints vitest's JSON report as the one plain closing line CI reads: "N passed, N failed".
// A file that failed before running any test (an import error) counts as one failure.
import { readFileSync } from 'node:fs';
const path = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (e) {
  console.error(`no vitest report at ${path}: ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const brokenFiles = (report.testResults ?? []).filter(
  (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed'),
).length;
const failed = report.numFailedTests + brokenFiles;
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed > 0 || report.numPassedTests === 0 ? 1 : 0);
