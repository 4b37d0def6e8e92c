// Prints the one plain summary line CI recognises ("N passed, N failed"), from vitest's JSON
// report. A second argument adds failures found outside vitest (e.g. the type-check).
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results.json';
const extraFailures = Number(process.argv[3] ?? 0);
if (!existsSync(file)) {
  console.log(`0 passed, ${1 + extraFailures} failed`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
// A test file that fails to load has no failed tests of its own; count it as one failure.
const brokenFiles = report.testResults.filter(
  (suite) => suite.status === 'failed' && !suite.assertionResults.some((test) => test.status === 'failed'),
).length;
const failed = report.numFailedTests + brokenFiles + extraFailures;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && report.numTotalTests > 0 ? 0 : 1);
