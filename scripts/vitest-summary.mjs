// Prints the one plain summary line CI recognises ("N passed, N failed"), from one or more vitest
// JSON reports. A numeric argument adds failures found outside vitest (type-check, release check).
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const files = args.filter((arg) => !/^\d+$/.test(arg));
let failed = args.filter((arg) => /^\d+$/.test(arg)).reduce((sum, arg) => sum + Number(arg), 0);
let passed = 0;
let skipped = 0;
let total = 0;
for (const file of files.length > 0 ? files : ['test-results.json']) {
  if (!existsSync(file)) {
    failed += 1; // the run crashed before writing its report
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // A test file that fails to load has no failed tests of its own; count it as one failure.
  const brokenFiles = report.testResults.filter(
    (suite) => suite.status === 'failed' && !suite.assertionResults.some((test) => test.status === 'failed'),
  ).length;
  passed += report.numPassedTests;
  failed += report.numFailedTests + brokenFiles;
  skipped += report.numPendingTests + report.numTodoTests;
  total += report.numTotalTests;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && total > 0 ? 0 : 1);
