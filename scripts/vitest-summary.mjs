// Prints the one plain summary line CI recognises ("N passed, N failed"), from one or more vitest
// JSON reports. A numeric argument adds failures found outside vitest (type-check, release check).
// Above that line it names every failure, so a CI log that keeps only its tail still says what broke.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const args = process.argv.slice(2);
const files = args.filter((arg) => !/^\d+$/.test(arg));
const outsideFailures = args.filter((arg) => /^\d+$/.test(arg)).reduce((sum, arg) => sum + Number(arg), 0);
let failed = outsideFailures;
let passed = 0;
let skipped = 0;
let total = 0;
const failures = [];
if (outsideFailures > 0) failures.push(`${outsideFailures} check(s) outside vitest (type-check, release check): see above`);
for (const file of files.length > 0 ? files : ['test-results.json']) {
  if (!existsSync(file)) {
    failed += 1; // the run crashed before writing its report
    failures.push(`${file}: no report (the run crashed or was not started)`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const suite of report.testResults) {
    const where = relative(process.cwd(), suite.name);
    const failedTests = suite.assertionResults.filter((test) => test.status === 'failed');
    for (const test of failedTests) {
      const reason = (test.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      failures.push(`${file}: ${where} > ${test.fullName}${reason ? `\n    ${reason}` : ''}`);
    }
    // A test file that fails to load has no failed tests of its own; count it as one failure.
    if (suite.status === 'failed' && failedTests.length === 0) {
      failed += 1;
      failures.push(`${file}: ${where} did not load: ${(suite.message ?? '').split('\n')[0].slice(0, 300)}`);
    }
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  total += report.numTotalTests;
}
if (failures.length > 0) console.log(`failures:\n${failures.map((line) => `  ✗ ${line}`).join('\n')}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && total > 0 ? 0 : 1);
