import { spawn } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSignoff } from '@signoff/core';
import { hashRequestState, startLocalControlPlane } from '@signoff/server';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const policy = 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('signoff audit verify', () => {
  it('verifies an untouched log and names the entry someone edited', async () => {
    const controlPlane = await startLocalControlPlane({ policy, directory });
    const signoff = createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const request = await signoff.requestApproval(signoff.guard('payment.send', { amount: 5 }));
    await controlPlane.decide(request.id, 'ana', 'deny', { comment: 'no' });
    await controlPlane.close();

    const store = `sqlite:${join(directory, 'signoff.db')}`;
    const verified = await run('audit', 'verify', '--store', store);
    expect(verified).toMatchObject({ code: 0, out: expect.stringMatching(/^audit log verified: 3 entries/) });
    // An auditor reads the store a config names without any of the server's secrets.
    writeFileSync(join(directory, 'auditor.yaml'), 'policy: ./nowhere.yaml\nstore: sqlite:./signoff.db\napi_keys:\n  - { name: agent, kind: agent, key_env: SIGNOFF_UNSET_AGENT_KEY }\n');
    expect(await run('audit', 'verify', '--config', join(directory, 'auditor.yaml'))).toMatchObject({ code: 0, out: expect.stringMatching(/^audit log verified: 3 entries/) });

    const db = new Database(join(directory, 'signoff.db'));
    const row = db.prepare('SELECT body FROM audit_log WHERE sequence = 2').get() as { body: string };
    db.prepare('UPDATE audit_log SET body = ? WHERE sequence = 2').run(row.body.replace('"deny"', '"approve"'));
    db.close();
    expect(await run('audit', 'verify', '--store', store)).toMatchObject({ code: 1, err: expect.stringContaining('audit log BROKEN at entry #2: the entry was modified') });
  });

  /** A request denied through the API in a fresh SQLite store; its row as created; the head after the denial. */
  async function deniedInFreshStore(name: string, options: { thenRefused?: number } = {}) {
    const folder = join(directory, name);
    mkdirSync(folder);
    const controlPlane = await startLocalControlPlane({ policy, directory: folder });
    const signoff = createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const request = await signoff.requestApproval(signoff.guard('payment.send', { to: 'acme', amount: 900 }));
    const file = join(folder, 'signoff.db');
    const readRow = () => {
      const db = new Database(file, { readonly: true });
      const row = db.prepare('SELECT body, state_hash, audit_sequence FROM approval_requests WHERE id = ?').get(request.id) as { body: string; state_hash: string; audit_sequence: number };
      db.close();
      return row;
    };
    const asCreated = readRow();
    const denied = await controlPlane.decide(request.id, 'ana', 'deny', { comment: 'no' });
    for (let attempt = 0; attempt < (options.thenRefused ?? 0); attempt += 1) await fetch(`${controlPlane.url}/v1/approvals`, { headers: { authorization: 'Bearer sk_not_a_key_0123456789' } });
    await controlPlane.close();
    const store = `sqlite:${file}`;
    const head = (await run('audit', 'head', '--store', store)).out;
    return { id: request.id, denied, asCreated, store, head, sql: (statement: string, ...params: unknown[]) => {
      const db = new Database(file);
      db.prepare(statement).run(...params);
      db.close();
    } };
  }

  it('prints the chain head as <sequence>:<hash>, or as JSON', async () => {
    const { store, head } = await deniedInFreshStore('head');
    expect(head).toMatch(/^3:[0-9a-f]{64}$/);
    const json = JSON.parse((await run('audit', 'head', '--store', store, '--json')).out) as Record<string, unknown>;
    expect(json).toEqual({ sequence: 3, hash: head.slice(2), at: expect.stringMatching(/^\d{4}-/) });
    expect(await run('audit', 'verify', '--store', store, '--expect-head', head)).toMatchObject({ code: 0, out: expect.stringContaining('still holds head #3') });
    expect((await run('audit', 'verify', '--store', store, '--expect-head', '3:abc')).code).toBe(2);
  });

  it('names a request whose denial was cut from the log and whose row was rewritten to approved', async () => {
    const { id, denied, asCreated, store, sql } = await deniedInFreshStore('rewritten');
    const approved = { ...denied, status: 'approved', granted: true, resolution: 'Approved by Ana Lima' };
    sql('DELETE FROM audit_log WHERE sequence > 1');
    sql("UPDATE approval_requests SET status = 'approved', body = ?, state_hash = ?, audit_sequence = ? WHERE id = ?", JSON.stringify(approved), hashRequestState(approved), asCreated.audit_sequence, id);
    const result = await run('audit', 'verify', '--store', store);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`request ${id} does not match the audit log: the row body is not the state logged last, at entry #1`);
  });

  it('finds a plain cut of the newest entries only against a head recorded before it', async () => {
    const { id, asCreated, store, head, sql } = await deniedInFreshStore('cut');
    // The denial cut, and the row put back exactly as the log's newest remaining state says: consistent.
    sql('DELETE FROM audit_log WHERE sequence > 1');
    sql("UPDATE approval_requests SET status = 'pending', body = ?, state_hash = ?, audit_sequence = ? WHERE id = ?", asCreated.body, asCreated.state_hash, asCreated.audit_sequence, id);
    expect((await run('audit', 'verify', '--store', store)).code).toBe(0); // the limit: the chain alone cannot see it
    const checked = await run('audit', 'verify', '--store', store, '--expect-head', head);
    expect(checked).toMatchObject({ code: 1, err: expect.stringContaining('audit log CUT: the log no longer contains the expected head #3 (it ends at #1): entries were cut') });
  });

  it('finds a cut of trailing entries that touch no request state, and a head whose entry was rewritten', async () => {
    const { store, head, sql } = await deniedInFreshStore('trailing', { thenRefused: 2 });
    expect(head).toMatch(/^5:/); // created, decision, denied, two refused API calls
    sql('DELETE FROM audit_log WHERE sequence > 3');
    expect((await run('audit', 'verify', '--store', store)).code).toBe(0);
    expect(await run('audit', 'verify', '--store', store, '--expect-head', head)).toMatchObject({ code: 1, err: expect.stringContaining('(it ends at #3): entries were cut') });
    expect((await run('audit', 'verify', '--store', store, '--expect-head', `1:${'0'.repeat(64)}`)).err).toContain('audit log CUT: entry #1 has hash');
  });

  it('names the field of a bad config and exits 1', async () => {
    const config = join(directory, 'bad.yaml');
    writeFileSync(config, 'policy: ./p.yaml\nlisten: nowhere\napi_keys: []\n');
    const result = await run('serve', '--config', config);
    expect(result.code).toBe(1);
    expect(result.err).toContain('bad.yaml:2:9: expected host:port');
    expect(result.err).toContain('bad.yaml:3:11: expected at least one API key');
  });
});

describe('signoff approvals', () => {
  it('lists, shows, approves and denies as a reviewer, and prints refusals with the server reason', async () => {
    const twoApprovals =
      'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate, metadata: { required_approvals: 2, approver_roles: [finance, security] } }\n' +
      '  - { tool: payment.urgent, action: escalate, metadata: { approver_roles: [finance], approval_timeout_minutes: 1 } }\n';
    const controlPlane = await startLocalControlPlane({ policy: twoApprovals });
    const signoff = createSignoff({ policy: twoApprovals, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const request = await signoff.requestApproval(signoff.guard('payment.send', { to: 'acme', amount: 900 }));
    const as = (reviewer: string) => ['--url', controlPlane.url, '--key', controlPlane.reviewerKey(reviewer)];

    expect((await run('approvals', 'list', ...as('ana'))).out).toContain(`${request.id}  payment.send  0/2 approvals`);
    const shown = (await run('approvals', 'show', request.id, ...as('ana'))).out;
    expect(shown).toContain('"amount": 900');
    expect(shown).toContain(`--args-hash ${request.approvedArgsHash}`);
    const stale = await run('approvals', 'approve', request.id, '--args-hash', 'f'.repeat(64), ...as('ana'));
    expect(stale).toMatchObject({ code: 1, err: expect.stringContaining('ARGS_CHANGED') });
    const approved = await run('approvals', 'approve', request.id, '--comment', 'invoice checked', '--args-hash', request.approvedArgsHash, ...as('ana'));
    expect(approved).toMatchObject({ code: 0, out: expect.stringContaining('request is pending: Waiting for 1 more approval(s)') });
    const refused = await run('approvals', 'approve', request.id, ...as('lee'));
    expect(refused).toMatchObject({ code: 1, err: expect.stringContaining('NOT_AN_APPROVER') });
    process.env.SIGNOFF_KEY_SAM = controlPlane.reviewerKey('sam');
    const byName = await run('approvals', 'approve', request.id, '--url', controlPlane.url, '--as', 'sam');
    delete process.env.SIGNOFF_KEY_SAM;
    expect(byName.out).toContain('request is approved: Approved by Ana Lima, Sam Okafor');
    expect((await run('approvals', 'list', ...as('ana'))).out).toBe('nothing waiting for you');
    expect((await run('approvals', 'list', '--all', ...as('ana'))).out).toContain('approved');
    // Pages: a full page says how to get the next one.
    await signoff.requestApproval(signoff.guard('payment.send', { to: 'globex', amount: 10 }));
    const firstPage = (await run('approvals', 'list', '--all', '--limit', '1', ...as('ana'))).out;
    const cursor = /more: add --cursor (\S+)/.exec(firstPage)?.[1];
    expect(cursor).toEqual(expect.any(String));
    const secondPage = (await run('approvals', 'list', '--all', '--limit', '1', '--cursor', cursor as string, ...as('ana'))).out;
    expect(secondPage).toContain(request.id);
    // Soonest deadline first: the hint keeps the order, and its cursor pages in that order.
    const soonest = await signoff.requestApproval(signoff.guard('payment.urgent', { to: 'initech', amount: 20 }));
    await signoff.requestApproval(signoff.guard('payment.send', { to: 'hooli', amount: 30 })); // newer, later deadline
    const byDeadline = (await run('approvals', 'list', '--order', 'deadline', '--limit', '1', ...as('ana'))).out;
    expect(byDeadline).toContain(soonest.id);
    const deadlineCursor = /more: add --cursor (\S+) --order deadline/.exec(byDeadline)?.[1];
    expect(deadlineCursor).toEqual(expect.any(String));
    const nextByDeadline = (await run('approvals', 'list', '--order', 'deadline', '--limit', '1', '--cursor', deadlineCursor as string, ...as('ana'))).out;
    expect(nextByDeadline).not.toContain(soonest.id);
    expect((await run('approvals', 'list', '--order', 'oldest', ...as('ana'))).code).toBe(2);
    expect((await run('approvals', 'list', '--limit', '0', ...as('ana'))).code).toBe(2);
    expect((await run('approvals', 'list', '--url', controlPlane.url)).code).toBe(2); // no key
    await controlPlane.close();
  });
});

describe('signoff serve', () => {
  it('serves until SIGTERM, then stops gracefully with exit code 0', async () => {
    writeFileSync(join(directory, 'policy.yaml'), policy);
    writeFileSync(
      join(directory, 'serve.yaml'),
      'policy: ./policy.yaml\nstore: sqlite:./serve.db\nlisten: 127.0.0.1:0\nreviewers: [{ id: ana, name: Ana }]\napi_keys:\n  - { name: agent, kind: agent, key_env: SIGNOFF_TEST_AGENT_KEY }\n',
    );
    const bin = fileURLToPath(new URL('../../bin/signoff.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--config', join(directory, 'serve.yaml')], {
      env: { ...process.env, SIGNOFF_TEST_AGENT_KEY: 'sk_test_0123456789abcdef' },
    });
    let output = '';
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1] as string);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    const health = await fetch(`${url}/v1/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const unauthorized = await fetch(`${url}/v1/approvals`, { headers: { authorization: 'Bearer sk_wrong_0123456789abcdef' } });
    expect(unauthorized.status).toBe(401);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    expect(output).toContain('stopped');
    // The config was written 0644 by this test: serve warns; the database it created is private.
    expect(errors).toContain(`warning: ${join(directory, 'serve.yaml')} is readable by other users (mode 0644)`);
    expect(errors).not.toContain('serve.db');
    expect(statSync(join(directory, 'serve.db')).mode & 0o777).toBe(0o600);
  }, 30_000);

  it('warns at start-up about what `policy check --config` would lint, against its own call history retention', async () => {
    writeFileSync(
      join(directory, 'history.policy.yaml'),
      [
        'version: 1',
        'default: deny',
        'rules:',
        '  - id: monthly-refunds',
        '    tool: refund.create',
        '    action: escalate',
        '    when: { window: { within: 30d }, count: { gte: 10 } }',
        '  - id: refunds',
        '    tool: refund.create',
        '    action: allow',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(directory, 'history.yaml'),
      'policy: ./history.policy.yaml\nstore: sqlite:./history.db\nlisten: 127.0.0.1:0\ncall_history: { retention: 7d }\nreviewers: [{ id: ana, name: Ana }]\napi_keys:\n  - { name: agent, kind: agent, key_env: SIGNOFF_TEST_AGENT_KEY }\n',
    );
    const bin = fileURLToPath(new URL('../../bin/signoff.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--config', join(directory, 'history.yaml')], { env: { ...process.env, SIGNOFF_TEST_AGENT_KEY: 'sk_test_0123456789abcdef' } });
    let output = '';
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('listening on')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}${errors}`)));
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(errors).toMatch(new RegExp(`${join(directory, 'history.policy.yaml')}:4:5: warning: rule 'monthly-refunds': count looks back 30d .*keeps calls for 7d.*\\[window-exceeds-retention\\]`));
  }, 30_000);

  it('says plainly when its port is taken, instead of a stack trace', async () => {
    const busy = createNetServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => busy.once('listening', resolve));
    const port = (busy.address() as { port: number }).port;
    writeFileSync(join(directory, 'policy.yaml'), policy);
    writeFileSync(join(directory, 'busy.yaml'), `policy: ./policy.yaml\nstore: sqlite:./busy.db\nlisten: 127.0.0.1:${port}\nreviewers: [{ id: ana, name: Ana }]\napi_keys:\n  - { name: agent, kind: agent, key_env: SIGNOFF_TEST_AGENT_KEY }\n`);
    const bin = fileURLToPath(new URL('../../bin/signoff.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--config', join(directory, 'busy.yaml')], { env: { ...process.env, SIGNOFF_TEST_AGENT_KEY: 'sk_test_0123456789abcdef' } });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    busy.close();
    expect(code).toBe(1);
    expect(errors).toContain(`signoff: 127.0.0.1:${port} is already in use`);
    expect(errors).not.toMatch(/\n\s+at /);
  }, 30_000);
});

describe('the signoff command in a pipe', () => {
  it('stops quietly when the reader closes the pipe early (… | head)', async () => {
    const bin = fileURLToPath(new URL('../../bin/signoff.js', import.meta.url));
    const seed = fileURLToPath(new URL('../../../../examples/policies/seed.yaml', import.meta.url));
    const child = spawn(process.execPath, [bin, 'policy', 'explain', seed, '--tool', 'payment.send', '--args', '{"to":"acme","amount":500}']);
    child.stdout.destroy(); // the reader is gone before the first line is written
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(errors).not.toContain('EPIPE');
    expect(code).toBe(0);
  }, 30_000);
});

describe('signoff mcp', () => {
  const bin = fileURLToPath(new URL('../../bin/signoff.js', import.meta.url));
  const runMcp = (...argv: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'mcp', ...argv], { env: { ...process.env, SIGNOFF_API_KEY: '' } });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('exit', (code) => resolve({ code, err }));
    });

  it('runs the proxy of @signoff/mcp: its own --help, and a usage error without the required flags', async () => {
    expect(await runMcp('--help')).toMatchObject({ code: 0, err: expect.stringContaining('--control-plane') });
    expect(await runMcp('--policy', 'p.yaml')).toMatchObject({ code: 2, err: expect.stringContaining('--policy, --control-plane and an upstream (a command after --, or --upstream-url) are required') });
  }, 30_000);
});
