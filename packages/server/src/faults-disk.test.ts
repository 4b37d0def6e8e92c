import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer } from './__fixtures__/server-process.js';
import { verifyAuditChain } from './audit/audit-chain.js';
import { sha256Hex } from './config/server-config.js';
import { openSqliteStore } from './store/sqlite-store.js';

// The SQLite file on a tiny tmpfs: filled up, then remounted read-only under a running server.
// Writes must fail with a clear, retryable error and leave the database intact.

const directory = mkdtempSync(join(tmpdir(), 'signoff-disk-'));
const mountPoint = join(directory, 'disk');
mkdirSync(mountPoint);
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('cannot mount a tmpfs here (not root?): the full-disk and read-only tests are skipped');
    return false;
  }
})();
const keys = { agent: `sk_agent_${randomUUID()}` };
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (mounted) execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
  rmSync(directory, { recursive: true, force: true });
});

async function startServer(): Promise<string> {
  const config = join(directory, 'signoff.yaml');
  writeFileSync(join(directory, 'policy.yaml'), 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n');
  writeFileSync(
    config,
    ['policy: ./policy.yaml', `store: sqlite:${join(mountPoint, 'signoff.db')}`, 'listen: 127.0.0.1:0', 'reviewers: [{ id: ana, name: Ana }]', 'api_keys:', `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(keys.agent)}" }`].join('\n'),
  );
  const server = await spawnServer(config, { stderr: 'ignore' });
  child = server.child;
  return server.url;
}

const create = (url: string, index: number) =>
  fetch(`${url}/v1/approvals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.agent}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool: 'payment.send', args: { index, memo: 'x'.repeat(2_000) }, idempotencyKey: `disk:${index}` }),
  });

describe.skipIf(!mounted)('a full or read-only disk under the SQLite store', () => {
  it('refuses writes on a full or read-only disk with a retryable 503 that says why, keeps serving reads, and corrupts nothing', async () => {
    const url = await startServer();
    const accepted: string[] = [];
    let refusal: { status: number; body: { error: { code: string; message: string } } } | undefined;
    for (let index = 0; index < 2_000 && !refusal; index += 1) {
      const response = await create(url, index);
      const body = (await response.json()) as { id: string; error: { code: string; message: string } };
      if (response.status === 201) accepted.push(body.id);
      else refusal = { status: response.status, body };
    }
    expect(refusal).toMatchObject({ status: 503, body: { error: { code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/SQLITE_FULL|SQLITE_IOERR/) } } });
    expect(accepted.length).toBeGreaterThan(10);
    const read = await fetch(`${url}/v1/approvals/${accepted[0]}`, { headers: { authorization: `Bearer ${keys.agent}` } });
    expect(read.status).toBe(200); // reads still work

    child?.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));

    // A read-only disk: the server still starts and serves reads; writes get the same clear 503.
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    const readOnlyUrl = await startServer();
    const readOnly = await create(readOnlyUrl, 100_000);
    expect(readOnly.status).toBe(503);
    expect(((await readOnly.json()) as { error: { code: string } }).error.code).toBe('STORAGE_UNAVAILABLE');
    expect((await fetch(`${readOnlyUrl}/v1/approvals/${accepted[0]}`, { headers: { authorization: `Bearer ${keys.agent}` } })).status).toBe(200);
    child?.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    execFileSync('mount', ['-o', 'remount,rw,size=8m', mountPoint]);
    const db = new Database(join(mountPoint, 'signoff.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const store = openSqliteStore(join(mountPoint, 'signoff.db'));
    const audit = await store.readAudit();
    for (const id of accepted) expect(await store.getRequest(id)).toMatchObject({ id, status: 'pending' });
    expect(audit.filter((entry) => entry.type === 'request.created')).toHaveLength(accepted.length);
    expect(verifyAuditChain(audit)).toBeUndefined();
    await store.close();
  }, 60_000);
});
