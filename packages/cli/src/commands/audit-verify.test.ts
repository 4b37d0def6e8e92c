import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGuard, parsePolicy } from '@signoff/core';
import { archiveResolved, openApprovalRequest, openSqliteStore } from '@signoff/server';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-cli-archive-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('signoff audit verify across a retention archive', () => {
  it('verifies archived entries and requests, then the hot log, as one chain', async () => {
    const file = join(directory, 'signoff.db');
    const store = openSqliteStore(file);
    const guard = createGuard(parsePolicy('rules: [{ tool: "**", action: escalate }]'));
    const longAgo = new Date(Date.now() - 100 * 86_400_000);
    await store.createRequests(
      Array.from({ length: 20 }, (_, index) => {
        const opened = openApprovalRequest({ tool: 'payment.send', args: { index } }, { id: `apr_archived${String(index).padStart(4, '0')}`, requester: 'agent', now: longAgo, decision: guard('payment.send', { index }), defaultTimeoutMs: 60_000 });
        return { request: { ...opened.request, status: 'denied' as const, resolvedAt: longAgo.toISOString() }, events: opened.events };
      }),
    );
    await store.appendAudit([{ type: 'access.refused', actor: 'unknown', channel: 'api', detail: {} }]);
    const archived = await archiveResolved({ store, directory: join(directory, 'archive'), resolvedAfterMs: 30 * 86_400_000 });
    expect(archived).toMatchObject({ from: 1, requests: 20 });
    await store.close();

    writeFileSync(join(directory, 'signoff.yaml'), 'policy: ./policy.yaml\nstore: sqlite:./signoff.db\nretention: { resolved_after_days: 30, archive_dir: ./archive }\napi_keys:\n  - { name: agent, kind: agent, key_env: SIGNOFF_UNSET_AGENT_KEY }\n');
    const total = (archived?.to ?? 0) + 1; // nothing pins the log: all of it went, then retention.archived
    expect(await run('audit', 'verify', '--config', join(directory, 'signoff.yaml'))).toMatchObject({
      code: 0,
      out: expect.stringMatching(new RegExp(`^audit log verified: ${total} entries \\(1 archive file with 20 archived requests, then the hot log\\)`)),
    });
    const store_ = `sqlite:${file}`;
    expect(await run('audit', 'verify', '--store', store_, '--archive-dir', join(directory, 'archive'))).toMatchObject({ code: 0 });
    expect(await run('audit', 'verify', '--store', store_)).toMatchObject({ code: 1, err: expect.stringContaining('pass the archive directory') });
  });
});

describe('signoff audit verify in bounded memory', () => {
  it('verifies 100,000 requests with a 48 MB heap: rows are compared through the store, not held in memory', async () => {
    // Measured with bench:audit: the verify before (every request's newest state in a Map) aborts out of
    // memory on this store under this cap; this one passes at 100,000 and 200,000 requests alike.
    const file = join(directory, 'many.db');
    const store = openSqliteStore(file);
    const guard = createGuard(parsePolicy('rules: [{ tool: "**", action: escalate }]'));
    const at = new Date(Date.now() - 86_400_000);
    for (let start = 0; start < 100_000; start += 5_000) {
      await store.createRequests(
        Array.from({ length: 5_000 }, (_, offset) => {
          const args = { n: start + offset };
          const opened = openApprovalRequest({ tool: 'payment.send', args }, { id: `apr_many${String(start + offset).padStart(8, '0')}`, requester: 'agent', now: at, decision: guard('payment.send', args), defaultTimeoutMs: 60_000 });
          return { request: { ...opened.request, status: 'denied' as const, resolvedAt: at.toISOString() }, events: opened.events };
        }),
      );
    }
    await store.close();
    const bin = fileURLToPath(new URL('../../bin/signoff.js', import.meta.url));
    const verified = spawnSync(process.execPath, [bin, 'audit', 'verify', '--store', `sqlite:${file}`], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=48' } });
    expect({ status: verified.status, out: verified.stdout }).toMatchObject({ status: 0, out: expect.stringContaining('audit log verified: 100000 entries, chain head 100000:') });
    expect(verified.stdout).toContain('100000 requests match their logged state');
  }, 180_000);
});
