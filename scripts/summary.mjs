// Prints vitest's JSON report as the one plain closing line CI reads: "N passed, N failed".
import { readFileSync } from 'node:fs';
const path = process.argv[2];
let report;
try { report = JSON.parse(readFileSync(path, 'utf8')); } catch (e) {
  console.log('0 passed, 1 failed');
  console.error(`no vitest report at ${path}: ${e.message}`);
  process.exit(1);
}
const failed = report.numFailedTests + (report.numFailedTestSuites ?? 0) - 0;
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed > 0 || report.numPassedTests === 0 ? 1 : 0);
