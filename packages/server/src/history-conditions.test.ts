import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSignoff, parsePolicy, type Signoff } from '@signoff/core';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadServerConfig, sha256Hex } from './config/server-config.js';
import { startServer, type RunningServer } from './start-server.js';
import { client } from './test-server.js';

/**
 * Rules that look at more than one call, end to end: the agent-side guard (core client) marks them
 * as needing the control plane, the control plane decides them over its call history, and calls
 * the agent allowed on its own are reported and counted. On SQLite and on PostgreSQL (two replicas).
 */

const POLICY = `
version: 1
default: deny
rules:
  - id: small-payments
    tool: payment_send
    action: allow
    when: { args.amount: { lte: 10 } }
  - id: split-payments
    tool: payment_send
    action: escalate
    when:
      window: { within: 1h, per: [context.agent, args.to] }
      sum(args.amount): { gt: 1000 }
  - { id: payments, tool: payment_send, action: allow }
  - id: watch-big-refunds
    tool: refund_create
    action: deny
    mode: shadow
    when: { args.amount: { gt: 500 } }
  - id: refund-burst
    tool: refund_create
    action: escalate
    when: { window: { within: 1h, per: [context.user] }, count: { gte: 3 } }
  - { id: refunds, tool: refund_create, action: allow }
`;

const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
const agentKey = `sk_agent_${randomUUID()}`;
const reviewerKey = `sk_ana_${randomUUID()}`;
const directories: string[] = [];
const servers: RunningServer[] = [];
const schemas: string[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  if (postgresUrl && schemas.length > 0) {
    const db = new pg.Client({ connectionString: postgresUrl });
    await db.connect();
    for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  }
});

async function startControlPlane(store: string, policy = POLICY, extraConfig: readonly string[] = []): Promise<RunningServer> {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-history-'));
  directories.push(directory);
  writeFileSync(join(directory, 'policy.yaml'), policy);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: ./policy.yaml',
      `store: "${store}"`,
      'listen: 127.0.0.1:0',
      'reviewers: [{ id: ana, name: Ana, roles: [finance] }]',
      'api_keys:',
      `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(agentKey)}" }`,
      `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(reviewerKey)}" }`,
      ...extraConfig,
    ].join('\n'),
  );
  const server = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
  servers.push(server);
  return server;
}

function agent(server: RunningServer): Signoff {
  return createSignoff({ policy: POLICY, controlPlane: { url: server.url, apiKey: agentKey } });
}

function postgresStore(): string {
  const schema = `history_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  schemas.push(schema);
  return `${postgresUrl}${postgresUrl?.includes('?') ? '&' : '?'}schema=${schema}`;
}

const stores: [string, () => string][] = [['SQLite', () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'signoff-history-db-')), 'signoff.db')}`]];
if (postgresUrl) stores.push(['PostgreSQL', postgresStore]);

describe.each(stores)('history conditions through the core client and a real control plane (%s)', (_name, storeUrl) => {
  it('split payments: calls allowed locally are reported and counted; the payment that passes 1000 escalates', async () => {
    const server = await startControlPlane(storeUrl());
    const signoff = agent(server);
    const context = { agent: 'bot-1' };

    for (const amount of [400, 400]) {
      const authorization = await signoff.authorize('payment_send', { to: 'acme', amount }, { context });
      expect(authorization).toMatchObject({ granted: true, decision: { action: 'escalate', needsHistory: true }, approval: { ruleId: 'payments', status: 'executed' } });
    }
    // Twenty small payments the local guard allows alone: reported in a batch, 200 in all.
    for (let index = 0; index < 20; index += 1) expect(signoff.guard('payment_send', { to: 'acme', amount: 10 }, context).action).toBe('allow');
    await signoff.flushCalls();

    const other = await signoff.authorize('payment_send', { to: 'other', amount: 50 }, { context });
    expect(other).toMatchObject({ granted: true, approval: { ruleId: 'payments' } });

    const decision = signoff.guard('payment_send', { to: 'acme', amount: 50 }, context);
    expect(decision).toMatchObject({ action: 'escalate', needsHistory: true, ruleId: 'split-payments' });
    const request = await signoff.requestApproval(decision, { idempotencyKey: 'split-1' });
    expect(request).toMatchObject({ status: 'pending', ruleId: 'split-payments' }); // 400 + 400 + 200 + 50 > 1000
  });

  it('refund burst: the third refund for one user within the hour waits for a human; shadow rules only record', async () => {
    const server = await startControlPlane(storeUrl());
    const signoff = agent(server);
    const refund = (user: string, amount = 20) => signoff.requestApproval(signoff.guard('refund_create', { amount }, { user }), { idempotencyKey: randomUUID() });

    expect(await refund('u1', 900)).toMatchObject({ status: 'approved', ruleId: 'refunds' });
    expect(await refund('u1')).toMatchObject({ status: 'approved', ruleId: 'refunds' });
    expect(await refund('u2')).toMatchObject({ status: 'approved', ruleId: 'refunds' });
    expect(await refund('u1')).toMatchObject({ status: 'pending', ruleId: 'refund-burst' });

    const recorded = await (server.history as NonNullable<RunningServer['history']>).list(0);
    expect(recorded.map(({ tool, action, ruleId, shadowAction, shadowRuleId }) => ({ tool, action, ruleId, shadowAction, shadowRuleId }))).toEqual([
      { tool: 'refund_create', action: 'allow', ruleId: 'refunds', shadowAction: 'deny', shadowRuleId: 'watch-big-refunds' },
      { tool: 'refund_create', action: 'allow', ruleId: 'refunds', shadowAction: 'allow', shadowRuleId: 'refunds' },
      { tool: 'refund_create', action: 'allow', ruleId: 'refunds', shadowAction: 'allow', shadowRuleId: 'refunds' },
      { tool: 'refund_create', action: 'escalate', ruleId: 'refund-burst', shadowAction: 'escalate', shadowRuleId: 'refund-burst' },
    ]);
  });

  it('counts a retried report once: a batch posted twice, and one tool call guarded twice under its call id', async () => {
    const server = await startControlPlane(storeUrl());
    const api = client(server.url, agentKey);
    const context = { agent: 'bot-2' };
    const batch = { calls: Array.from({ length: 3 }, (_, index) => ({ id: `thread-9:call_${index}`, tool: 'payment_send', args: { to: 'acme', amount: 10 }, context })) };
    expect(await api('POST', '/v1/calls', batch)).toMatchObject({ status: 202, body: { recorded: 3 } });
    expect(await api('POST', '/v1/calls', batch)).toMatchObject({ status: 202 }); // the client retries a batch it heard no answer for

    // A middleware and the tool-level gate guard the same call: reported under its call id, counted once.
    const signoff = agent(server);
    for (let index = 0; index < 2; index += 1) for (const gate of ['middleware', 'tool']) expect(signoff.guard('payment_send', { to: 'acme', amount: 10 }, context, { callId: `thread-9:call_local_${index}` }).action, gate).toBe('allow');
    await signoff.flushCalls();
    expect((await (server.history as NonNullable<RunningServer['history']>).list(0)).length).toBe(5);

    // 5 × 10 counted, not 10 × 10: 50 + 950 = 1000 is not over 1000; 10 × 10 would have made it 1050.
    const atLimit = await signoff.requestApproval(signoff.guard('payment_send', { to: 'acme', amount: 950 }, context), { idempotencyKey: 'at-limit' });
    expect(atLimit).toMatchObject({ status: 'approved', ruleId: 'payments' });
    const over = await signoff.requestApproval(signoff.guard('payment_send', { to: 'acme', amount: 11 }, context), { idempotencyKey: 'over' });
    expect(over).toMatchObject({ status: 'pending', ruleId: 'split-payments' });
  });

  it('counts calls the control plane escalated and then refused (over the escalation budget, folded into an identical pending one) or a reviewer denied: a refusal lowers no running total', async () => {
    const server = await startControlPlane(storeUrl(), POLICY, ['escalation_budget: { max_pending: 1 }']);
    const signoff = agent(server);
    const api = client(server.url, agentKey);
    const context = { agent: 'bot-3' };
    const pay = (amount: number, key: string) => api('POST', '/v1/approvals', { tool: 'payment_send', args: { to: 'acme', amount }, context, idempotencyKey: key });

    expect(await pay(900, 'p1')).toMatchObject({ status: 201, body: { status: 'approved', ruleId: 'payments' } });
    const waiting = await pay(150, 'p2'); // 1050: waits for a reviewer, and fills the budget
    expect(waiting).toMatchObject({ status: 201, body: { status: 'pending', ruleId: 'split-payments' } });
    expect(await pay(600, 'p3')).toMatchObject({ status: 429, body: { error: { code: 'ESCALATION_BUDGET_EXCEEDED' } } });
    const folded = await pay(150, 'p4'); // the same payment again, under another key: folded into p2
    expect(folded.body.id).toBe(waiting.body.id);
    const denied = await client(server.url, reviewerKey)('POST', `/v1/approvals/${waiting.body.id}/decision`, { verdict: 'deny' });
    expect(denied).toMatchObject({ status: 200, body: { status: 'denied' } });

    // None of 150, 600, 150 ran, yet each counts: 900 + 900 + 20 > 1000. Not counting them, 920 would pass.
    const next = await signoff.requestApproval(signoff.guard('payment_send', { to: 'acme', amount: 20 }, context), { idempotencyKey: 'p5' });
    expect(next).toMatchObject({ status: 'pending', ruleId: 'split-payments' });
    const recorded = await (server.history as NonNullable<RunningServer['history']>).list(0);
    expect(recorded.map((call) => [(call.args as { amount: number }).amount, call.action])).toEqual([
      [900, 'allow'],
      [150, 'escalate'],
      [600, 'escalate'],
      [150, 'escalate'],
      [20, 'escalate'],
    ]);
    // A retried create (same key) is the same call: recorded once.
    await pay(600, 'p3');
    expect(await (server.history as NonNullable<RunningServer['history']>).list(0)).toHaveLength(5);
  });

  it('a report too large for the server is split, and only a call too large on its own is left out', async () => {
    const server = await startControlPlane(storeUrl(), POLICY, ['max_body_kb: 4']);
    const signoff = agent(server);
    const context = { agent: 'bot-4' };
    for (let index = 0; index < 30; index += 1) signoff.guard('payment_send', { to: 'acme', amount: 10, memo: `${index}:${'m'.repeat(300)}` }, context);
    signoff.guard('payment_send', { to: 'acme', amount: 10, memo: 'x'.repeat(5_000) }, context);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await signoff.flushCalls();
      expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([expect.stringContaining('413 BODY_TOO_LARGE')]);
    } finally {
      warn.mockRestore();
    }
    const recorded = await (server.history as NonNullable<RunningServer['history']>).list(0);
    expect(recorded.map((call) => Number(String((call.args as { memo: string }).memo).split(':')[0])).sort((left, right) => left - right)).toEqual(Array.from({ length: 30 }, (_, index) => index));
  });

  it('refuses a malformed report naming the field', async () => {
    const server = await startControlPlane(storeUrl());
    const api = client(server.url, agentKey);
    const bad = await api('POST', '/v1/calls', { calls: [{ id: 'short', tool: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('calls.0.id');
  });
});

describe('loading a different policy', () => {
  it('is audited with who, the new hash and the one it replaces; restarting with the same policy is not', async () => {
    const store = `sqlite:${join(mkdtempSync(join(tmpdir(), 'signoff-history-db-')), 'signoff.db')}`;
    const single = 'version: 1\ndefault: deny\nrules: [{ tool: payment_send, action: escalate }]\n';
    const first = await startControlPlane(store, single);
    await agent(first).requestApproval(agent(first).guard('payment_send', { amount: 1 }), { idempotencyKey: 'k1' });
    await first.close();
    await (await startControlPlane(store, single)).close();
    const second = await startControlPlane(store);
    const loaded = (await second.store.readAudit()).filter((entry) => entry.type === 'policy.loaded');
    expect(loaded).toHaveLength(1);
    expect(loaded[0]?.detail).toMatchObject({ policyHash: parsePolicy(POLICY).hash, previousPolicyHash: parsePolicy(single).hash, shadowRules: 1, historyConditions: 2 });
    expect(loaded[0]?.actor).toMatch(/.@./);
  });
});

describe('a policy that judges each call alone keeps no call history', () => {
  it('records nothing and reports nothing', async () => {
    const single = 'version: 1\ndefault: deny\nrules: [{ tool: payment_send, action: allow }]\n';
    const server = await startControlPlane(`sqlite:${join(mkdtempSync(join(tmpdir(), 'signoff-history-db-')), 'signoff.db')}`, single);
    expect(server.history).toBeUndefined();
    const api = client(server.url, agentKey);
    expect(await api('POST', '/v1/calls', { calls: [{ id: 'call-00000001', tool: 'payment_send', args: { amount: 1 } }] })).toMatchObject({ status: 202, body: { recorded: 0 } });
  });
});

describe.skipIf(!postgresUrl)('two replicas on one PostgreSQL database', () => {
  it('decides concurrent payments in one partition one at a time: exactly the payment that passes 1000 escalates', async () => {
    const store = postgresStore();
    const [first, second] = [await startControlPlane(store), await startControlPlane(store)] as [RunningServer, RunningServer];
    const agents = [agent(first), agent(second)];
    const context = { agent: 'bot-7' };
    const requests = await Promise.all(
      Array.from({ length: 6 }, (_, index) => {
        const signoff = agents[index % 2] as Signoff;
        return signoff.requestApproval(signoff.guard('payment_send', { to: 'acme', amount: 200 }, context), { idempotencyKey: `pay-${index}` });
      }),
    );
    // 200 × 5 = 1000 is not over 1000; the sixth, whichever replica took it, makes 1200.
    expect(requests.map((request) => request.status).sort()).toEqual(['approved', 'approved', 'approved', 'approved', 'approved', 'pending']);
  });

  it('counts calls reported to either replica and calls decided on either, in one aggregate', async () => {
    const store = postgresStore();
    const [first, second] = [await startControlPlane(store), await startControlPlane(store)] as [RunningServer, RunningServer];
    const [toFirst, toSecond] = [agent(first), agent(second)];
    const context = { agent: 'bot-8' };
    // Small payments each agent process allowed on its own, reported to the replica it talks to: 10 × 10 + 10 × 10.
    for (let index = 0; index < 10; index += 1) {
      expect(toFirst.guard('payment_send', { to: 'acme', amount: 10 }, context, { callId: `first:${index}` }).action).toBe('allow');
      expect(toSecond.guard('payment_send', { to: 'acme', amount: 10 }, context, { callId: `second:${index}` }).action).toBe('allow');
    }
    await Promise.all([toFirst.flushCalls(), toSecond.flushCalls()]);
    // The same batch retried against the other replica (a load balancer moved the client): still once.
    await client(second.url, agentKey)('POST', '/v1/calls', { calls: Array.from({ length: 10 }, (_, index) => ({ id: `first:${index}`, tool: 'payment_send', args: { to: 'acme', amount: 10 }, context })) });

    const decide = (on: Signoff, amount: number, key: string) => on.requestApproval(on.guard('payment_send', { to: 'acme', amount }, context), { idempotencyKey: key });
    expect(await decide(toFirst, 400, 'r1')).toMatchObject({ status: 'approved' }); // 200 reported + 400 = 600
    expect(await decide(toSecond, 400, 'r2')).toMatchObject({ status: 'approved' }); // + 400 = 1000, not over
    expect(await decide(toFirst, 11, 'r3')).toMatchObject({ status: 'pending', ruleId: 'split-payments' }); // 1011
    expect(await decide(toSecond, 11, 'r4')).toMatchObject({ status: 'pending', ruleId: 'split-payments' });
    expect(await (first.history as NonNullable<RunningServer['history']>).list(0)).toHaveLength(24);
  });
});
