import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

describe('the demo', () => {
  it('runs an allowed call, refuses a denied one, and resumes the payment once two reviewers approve', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'signoff-demo-'));
    chmodSync(directory, 0o755); // as an earlier demo left it: the demo makes it private again
    writeFileSync(join(directory, 'signoff.db'), '', { mode: 0o644 }); // and an older version's readable database
    const lines: string[] = [];
    const { calls, controlPlane } = await runDemo({ directory, port: 0, auto: true, print: (line) => lines.push(line) });
    await controlPlane.close();
    // Keys, the inbox session secret and the database are this user's alone.
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    for (const file of ['signoff.yaml', 'signoff.db', 'reviewer-keys.json']) expect(statSync(join(directory, file)).mode & 0o777, file).toBe(0o600);
    rmSync(directory, { recursive: true, force: true });
    expect(calls.map(({ tool, authorization }) => [tool, authorization.granted, authorization.decision.action])).toEqual([
      ['invoice.get', true, 'allow'],
      ['shell.exec', false, 'deny'],
      ['payment.send', true, 'escalate'],
    ]);
    expect(calls[2]?.authorization.approval).toMatchObject({ status: 'executed', decisions: [{ reviewer: 'ana' }, { reviewer: 'lee' }] });
    const output = lines.join('\n');
    expect(output).toMatch(/pnpm signoff approvals approve apr_\S+ --as ana --url http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('Approved by Ana Lima, Lee Chen');
    expect(output).toMatch(/replayed the same resume: not run — approval apr_\S+ was already used at/);
    expect(output).toMatch(/Inbox: http:\/\/127\.0\.0\.1:\d+\/inbox/);
  });

  it('runs end to end as `pnpm demo --auto`', () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const run = spawnSync('pnpm', ['--silent', 'demo', '--auto'], { cwd: root, encoding: 'utf8', env: { ...process.env, SIGNOFF_DEMO_PORT: '0' }, timeout: 50_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Done: 2 of 3 calls ran.');
  });
});
