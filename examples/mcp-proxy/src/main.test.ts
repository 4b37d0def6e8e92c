import { expect, test } from 'vitest';
import { runExample } from './run-example.js';

test('signoff mcp lets the agent read, refuses the .env write, and runs the held write once after the reviewer approves from the CLI', async () => {
  const lines: string[] = [];
  const run = await runExample((line) => lines.push(line));
  expect(run.listing).toContain('todo.md');
  expect(run.denied).toContain('Agents never write .env files');
  expect(run.envWritten).toBe(false);
  expect(run.reviewerSaw).toContain('write_file');
  expect(run.heldResult).toMatch(/^Successfully wrote to .*plan\.md$/);
  expect(run.planText).toBe('# Plan\n1. review\n2. ship\n');
  expect(run.repeated).toContain('already used');
  expect(lines.some((line) => line.includes('is held: Awaiting human approval apr_'))).toBe(true);
});
