import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'bin', 'signoff-mcp.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, input: '' });

describe('the signoff-mcp command', () => {
  it('refuses to start without a policy, a control plane and an upstream command, and says how to call it', () => {
    const result = run(['--policy', 'p.yaml']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: signoff-mcp --policy <file> --control-plane <url>');
  });

  it('refuses to start without SIGNOFF_API_KEY', () => {
    const result = run(['--policy', 'p.yaml', '--control-plane', 'http://127.0.0.1:1', '--', 'node', 'server.js']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('SIGNOFF_API_KEY is not set');
  });

  it('refuses a policy that does not load, naming the problem, before starting anything', () => {
    const result = run(['--policy', '/nonexistent/policy.yaml', '--control-plane', 'http://127.0.0.1:1', '--', 'node', 'server.js'], { SIGNOFF_API_KEY: 'sk_signoff_x' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('/nonexistent/policy.yaml');
  });
});
