import { expect, test } from 'vitest';
import { runAgent } from './run-agent.js';

test('the coding agent runs the allowed call, never rm -rf, and the approved git push once after a resume', async () => {
  const lines: string[] = [];
  const run = await runAgent({ offline: true, log: (line) => lines.push(line) });
  expect(run.allowedCallRan).toBe(true);
  expect(run.rmRan).toBe(false);
  expect(run.refusals.some((refusal) => refusal.includes('rm -rf is never run by an agent'))).toBe(true);
  expect(run.firstStopReason).toBe('tool_deferred');
  expect(run.pushesBeforeApproval).toEqual([]);
  expect(run.pushesAfterResume).toEqual(['pushed']);
  expect(run.remoteUpToDate).toBe(true);
  expect(run.approvalStatus).toBe('executed');
  expect(run.secondResume).toBe('ALREADY_EXECUTED');
  expect(run.pushesAfterSecondResume).toEqual(['pushed']);
  expect(lines.some((line) => line.includes('Lee approves'))).toBe(true);
});
