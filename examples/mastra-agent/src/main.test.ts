import { expect, test } from 'vitest';
import { runAgent } from './run-agent.js';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 13) || process.env.SIGNOFF_MASTRA_ON_OLD_NODE === '1';
if (!supported) console.warn(`mastra-agent example test skipped: @mastra/core needs Node >= 22.13, this is ${process.versions.node} (CI runs it on Node 22 and 24)`);

test.skipIf(!supported)('the example pays what policy and reviewers allow, each once', async () => {
  const lines: string[] = [];
  const run = await runAgent((line) => lines.push(line));
  expect(run.sent).toEqual([
    { to: 'coffee', amount: 50 },
    { to: 'acme', amount: 500 },
  ]);
  expect(lines.some((line) => line.includes('declined'))).toBe(true);
});
