import { describe, expect, it } from 'vitest';
import { mcp } from './mcp.js';

const notInstalled = () => Promise.reject(new Error("Cannot find package '@signoff/mcp'"));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await mcp(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, notInstalled);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('signoff mcp without @signoff/mcp installed', () => {
  it('answers --help with its usage and what to install, and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await run([flag]);
      expect(result.code).toBe(0);
      expect(result.out).toContain('mcp --policy <policy.yaml> --control-plane <url>');
      expect(result.out).toContain('npm install @signoff/mcp');
    }
  });

  it('says what to install and exits 1 for anything else, including an upstream --help after --', async () => {
    for (const argv of [['--policy', 'p.yaml', '--control-plane', 'http://127.0.0.1:8787', '--', 'server', '--help'], []]) {
      const result = await run(argv);
      expect(result.code).toBe(1);
      expect(result.err).toContain('npm install @signoff/mcp');
    }
  });
});
