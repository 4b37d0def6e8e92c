import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalControlPlane, type LocalControlPlane } from '../local-control-plane.js';

const policy = `
version: 1
default: deny
rules:
  - { id: payments, tool: payment_send, action: escalate, metadata: { approver_roles: [finance] } }
  - { id: deploys, tool: deploy_run, action: escalate, metadata: { approver_roles: [security] } }
`;
let controlPlane: LocalControlPlane;
beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy });
});
afterAll(async () => controlPlane.close());

const call = async (key: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${controlPlane.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: response.status, body: (await response.json()) as { data: Array<{ id: string; tool: string }>; nextCursor: string | null; error?: { field?: string } } };
};
const create = (tool: string, index: number) => call(controlPlane.agentKey, 'POST', '/v1/approvals', { tool, args: { index } });

describe('listing what a reviewer can act on, at scale', () => {
  it('finds a reviewer’s requests behind more than a page of newer requests for others, and pages stably', async () => {
    for (let index = 0; index < 5; index += 1) await create('payment_send', index);
    for (let index = 0; index < 150; index += 1) await create('deploy_run', index);

    const ana = await call(controlPlane.reviewerKey('ana'), 'GET', '/v1/approvals?actionable=true&limit=100');
    expect(ana.body.data.map((request) => request.tool)).toEqual(Array(5).fill('payment_send'));
    expect(ana.body.nextCursor).toBeNull();

    const sam = controlPlane.reviewerKey('sam');
    const first = await call(sam, 'GET', '/v1/approvals?actionable=true&limit=100');
    expect(first.body.data).toHaveLength(100);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    // New requests arriving between pages do not shift the next page.
    for (let index = 0; index < 10; index += 1) await create('deploy_run', 1_000 + index);
    const second = await call(sam, 'GET', `/v1/approvals?actionable=true&limit=100&cursor=${first.body.nextCursor}`);
    expect(second.body.data).toHaveLength(50);
    expect(second.body.nextCursor).toBeNull();
    const seen = new Set([...first.body.data, ...second.body.data].map((request) => request.id));
    expect(seen.size).toBe(150);

    // The plain list pages the same way.
    const all = await call(sam, 'GET', '/v1/approvals?limit=100');
    const rest = await call(sam, 'GET', `/v1/approvals?limit=100&cursor=${all.body.nextCursor}`);
    expect(all.body.data.length + rest.body.data.length).toBe(165);
    expect(await call(sam, 'GET', '/v1/approvals?cursor=not-a-cursor')).toMatchObject({ status: 400, body: { error: { field: 'cursor' } } });
  });

  it('lists soonest deadline first with order=deadline, paging with its own cursor', async () => {
    const sam = controlPlane.reviewerKey('sam');
    const first = await call(sam, 'GET', '/v1/approvals?actionable=true&order=deadline&limit=60');
    expect(first.body.data).toHaveLength(60);
    const rest = await call(sam, 'GET', `/v1/approvals?actionable=true&order=deadline&limit=200&cursor=${first.body.nextCursor}`);
    const deadlines = [...first.body.data, ...rest.body.data].map((request) => (request as unknown as { expiresAt: string }).expiresAt);
    expect(deadlines).toEqual([...deadlines].sort());
    expect(new Set([...first.body.data, ...rest.body.data].map((request) => request.id)).size).toBe(160);
    // A cursor of one order means nothing in the other: refused, not misread.
    const newest = await call(sam, 'GET', '/v1/approvals?actionable=true&limit=1');
    expect(await call(sam, 'GET', `/v1/approvals?actionable=true&order=deadline&cursor=${newest.body.nextCursor}`)).toMatchObject({ status: 400, body: { error: { field: 'cursor' } } });
    expect(await call(sam, 'GET', `/v1/approvals?order=newest&cursor=${first.body.nextCursor}`)).toMatchObject({ status: 400, body: { error: { field: 'cursor' } } });
  });
});
