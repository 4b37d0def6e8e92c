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

  it('refuses an upstream given twice, a malformed header and a bad --restart, naming the problem', () => {
    const base = ['--policy', 'p.yaml', '--control-plane', 'http://127.0.0.1:1'];
    const env = { SIGNOFF_API_KEY: 'sk_signoff_x' };
    const both = run([...base, '--upstream-url', 'http://127.0.0.1:2/mcp', '--', 'node', 'server.js'], env);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('either an upstream command after -- or --upstream-url, not both');
    const header = run([...base, '--upstream-url', 'http://127.0.0.1:2/mcp', '--upstream-header', 'Bearer abc'], env);
    expect(header.stderr).toContain('--upstream-header must look like "Name: value", got Bearer abc');
    const scheme = run([...base, '--upstream-url', 'ftp://example/mcp'], env);
    expect(scheme.stderr).toContain('--upstream-url must be an http:// or https:// URL');
    const restart = run([...base, '--restart=-1', '--', 'node', 'server.js'], env);
    expect(restart.stderr).toContain('--restart must be a whole number ≥ 0, got -1');
  });
});
