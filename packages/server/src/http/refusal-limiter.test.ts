import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../audit/audit-event.js';
import { createRefusalLimiter } from './refusal-limiter.js';
import { startTestServer, TEST_KEYS, client } from '../test-server.js';

const event: AuditEventInput = { type: 'access.refused', actor: 'unknown', channel: 'api', detail: { reason: 'unknown API key', path: '/v1/approvals' } };

describe('createRefusalLimiter', () => {
  it('writes the first refusals per source in full, summarizes the rest when the window closes, and throttles past the allowance', async () => {
    let time = Date.parse('2026-11-24T06:00:00.000Z');
    const written: AuditEventInput[] = [];
    const limiter = createRefusalLimiter({ record: async (events) => void written.push(...events), auditedPerWindow: 2, answeredPerWindow: 4, now: () => time });
    const answers = [];
    for (let index = 0; index < 6; index += 1) answers.push(await limiter.refuse('address 10.0.0.1', event));
    await limiter.refuse('address 10.0.0.2', event);
    expect(answers).toEqual(['answered', 'answered', 'answered', 'answered', 'throttled', 'throttled']);
    expect(written).toHaveLength(3); // two from .1, one from .2
    expect(limiter.retryAfterSeconds()).toBe(60);

    time += 60_000; // the next window: the summary of the last one comes first
    expect(await limiter.refuse('address 10.0.0.1', event)).toBe('answered');
    expect(written[3]?.detail).toMatchObject({ source: 'address 10.0.0.1', count: 2, from: '2026-11-24T06:00:00.000Z', to: '2026-11-24T06:01:00.000Z' });
    expect(written).toHaveLength(5);
    await limiter.flush();
  });

  it('bounds the sources it tracks', async () => {
    const written: AuditEventInput[] = [];
    const limiter = createRefusalLimiter({ record: async (events) => void written.push(...events), auditedPerWindow: 1, maxSources: 3 });
    for (let index = 0; index < 100; index += 1) await limiter.refuse(`address 10.0.0.${index}`, event);
    await limiter.flush();
    expect(written).toHaveLength(5); // three tracked sources and the overflow source in full, then one summary for the overflow
    expect(written.filter((entry) => entry.detail.count === 96)).toHaveLength(1);
  });
});

describe('a flood of refused requests against a real server', () => {
  it('keeps the audit log small, answers 429 past the allowance, and serves a legitimate agent meanwhile', async () => {
    const server = await startTestServer();
    try {
      const before = (await server.store.readAudit()).length;
      const statuses = await Promise.all(
        Array.from({ length: 400 }, (_, index) => fetch(`${server.url}/v1/approvals/${'x'.repeat(index % 7)}`, { headers: { authorization: 'Bearer sk_forged_key_0000000000' } }).then((response) => response.status)),
      );
      expect(statuses.filter((status) => status === 401).length).toBe(120);
      expect(statuses.filter((status) => status === 429).length).toBe(280);
      const created = await client(server.url, TEST_KEYS.agent)('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'acme', amount: 5 } });
      expect(created.status).toBe(201);
      const refusals = (await server.store.readAudit()).slice(before).filter((entry) => entry.type === 'access.refused');
      expect(refusals).toHaveLength(5);
      expect(refusals[0]?.detail).toMatchObject({ code: 'UNAUTHENTICATED', source: expect.stringMatching(/^address /) });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('signoff_refusals_total{code="UNAUTHENTICATED"} 400');
    } finally {
      await server.cleanup();
    }
    // On shutdown the window's remaining refusals are summarized in one entry.
  });
});
