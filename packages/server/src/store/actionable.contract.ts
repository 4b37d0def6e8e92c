import type { ApprovalRequest, ApprovalRequirements } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canApprove } from '../engine/quorum.js';
import type { Reviewer } from '../engine/reviewer.js';
import type { StoreFactory } from './store.contract.js';
import { newRequest } from './store.contract.js';
import type { ActionableQuery, ListOrder, Store } from './store.js';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const ROLES = ['finance', 'security', 'ops', 'legal'] as const;
const ana: Reviewer = { id: 'ana', name: 'Ana', roles: ['finance', 'legal'] };
const bob: Reviewer = { id: 'bob', name: 'Bob', roles: ['security'] };
/** Agent keys each reviewer owns (their requests are not theirs to approve). */
const OWNED: Record<string, readonly string[]> = { ana: ['agent-2'], bob: [] };

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function requirements(roles: readonly string[], approvals = 1): ApprovalRequirements & { timeoutMs: number; grantTtlMs: number } {
  return { requiredApprovals: approvals, approverRoles: roles, timeoutMs: 60_000, timeoutAction: 'deny', grantTtlMs: 3_600_000 };
}

/** Many requests, mixed: roles (and any reviewer), requesters and users, earlier decisions (on the current or older args), deadlines, statuses; ties in createdAt. */
export function seedRequests(count: number, seed: number): ApprovalRequest[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: count }, (_, index) => {
    const id = `apr_seed${String(index).padStart(6, '0')}x${seed}`;
    const base = newRequest(id, { requester: pick(['agent-1', 'agent-2', 'agent-3', 'ana']) }).request;
    const roles = next() < 0.1 ? [] : [pick(ROLES)];
    // Several requests share a creation time: the id breaks the tie.
    const createdAt = new Date(NOW.getTime() - 3_600_000 + Math.floor(index / 3) * 1_000).toISOString();
    const expiresAt = new Date(NOW.getTime() + (next() < 0.1 ? -60_000 : Math.floor(next() * 3_600) * 1_000)).toISOString();
    const decided = next();
    const decisions =
      decided < 0.15 ? [{ reviewer: pick(['ana', 'bob']), verdict: 'approve' as const, channel: 'api' as const, at: createdAt, argsHash: base.approvedArgsHash }]
      : decided < 0.2 ? [{ reviewer: 'ana', verdict: 'approve' as const, channel: 'api' as const, at: createdAt, argsHash: 'sha256-of-args-before-an-edit' }]
      : [];
    const status = next() < 0.1 ? pick(['approved', 'denied', 'expired'] as const) : 'pending';
    return {
      ...base,
      requirements: requirements(roles),
      ...(next() < 0.15 ? { alsoRequired: [requirements([pick(ROLES)])] } : {}),
      onBehalfOf: pick([undefined, undefined, 'ana', 'bob']),
      decisions,
      status,
      createdAt,
      expiresAt,
    };
  });
}

/** The rule the store must answer, written out in JavaScript over every request. */
export function actionableFor(reviewer: Reviewer, requests: readonly ApprovalRequest[], now: Date): ApprovalRequest[] {
  return requests.filter(
    (request) =>
      request.status === 'pending' &&
      Date.parse(request.expiresAt) > now.getTime() &&
      canApprove(reviewer, request) &&
      request.requester !== reviewer.id &&
      request.onBehalfOf !== reviewer.id &&
      !(OWNED[reviewer.id] ?? []).includes(request.requester) &&
      !request.decisions.some((decision) => decision.reviewer === reviewer.id && decision.argsHash === request.approvedArgsHash),
  );
}

function sorted(requests: readonly ApprovalRequest[], order: ListOrder): string[] {
  const key = (request: ApprovalRequest) => (order === 'deadline' ? request.expiresAt : request.createdAt);
  const copy = [...requests].sort((a, b) => (key(a) === key(b) ? (a.id < b.id ? -1 : 1) : key(a) < key(b) ? -1 : 1));
  return (order === 'deadline' ? copy : copy.reverse()).map((request) => request.id);
}

/** Every page of a reviewer's actionable list, following the last row of each page; `between` runs before each next page. */
async function pageThrough(store: Store, reviewer: Reviewer, options: { order: ListOrder; limit: number; between?: () => Promise<void> }): Promise<string[]> {
  const ids: string[] = [];
  let position: Pick<ActionableQuery, 'before' | 'after'> = {};
  for (;;) {
    const page = await store.listActionable({ reviewer: reviewer.id, roles: reviewer.roles, ownedRequesters: OWNED[reviewer.id] ?? [], now: NOW, order: options.order, limit: options.limit, ...position });
    ids.push(...page.map((request) => request.id));
    const last = page.at(-1);
    if (page.length < options.limit || !last) return ids;
    position = options.order === 'deadline' ? { after: { expiresAt: last.expiresAt, id: last.id } } : { before: { createdAt: last.createdAt, id: last.id } };
    await options.between?.();
  }
}

/**
 * What a reviewer may act on, answered by the store on thousands of mixed requests: the exact set,
 * in order, across every page, whatever else is pending — on each store implementation.
 */
export function describeActionableContract(name: string, factory: StoreFactory, options: { readonly seeded: number }): void {
  describe(`${name} store: what a reviewer may act on`, () => {
    let store: Store;
    // Seeded once (thousands of writes take a while on PostgreSQL); each test reads what the store
    // holds now and asks the JavaScript rule, so the changes one test makes do not matter to the next.
    beforeAll(async () => {
      store = await factory.open();
      const seeded = seedRequests(options.seeded, 7);
      // A few at a time, as concurrent API calls would write them (the audit lock still orders the chain).
      for (let index = 0; index < seeded.length; index += 8) {
        await Promise.all(seeded.slice(index, index + 8).map((request) => store.createRequest(request, [{ type: 'request.created', requestId: request.id, actor: request.requester, channel: 'api', detail: {} }])));
      }
    }, 300_000);
    afterAll(async () => {
      await store.close();
    });
    /** Every stored request, read with keyset pages. */
    const everything = async (): Promise<ApprovalRequest[]> => {
      const all: ApprovalRequest[] = [];
      for (;;) {
        const last = all.at(-1);
        const page = await store.listRequests({ limit: 1000, ...(last ? { before: { createdAt: last.createdAt, id: last.id } } : {}) });
        all.push(...page);
        if (page.length < 1000) return all;
      }
    };

    for (const order of ['newest', 'deadline'] as const) {
      it(`returns exactly each reviewer's actionable set on every page (${order} first)`, async () => {
        for (const reviewer of [ana, bob]) {
          const expected = sorted(actionableFor(reviewer, await everything(), NOW), order);
          expect(expected.length).toBeGreaterThan(100); // the seed leaves each reviewer real work, and many others' requests
          expect(await pageThrough(store, reviewer, { order, limit: 37 })).toEqual(expected);
        }
      });
    }

    for (const order of ['newest', 'deadline'] as const) {
      it(`pages back from any page to the first (${order} first), and counts the whole set`, async () => {
        const expected = sorted(actionableFor(ana, await everything(), NOW), order);
        const query = { reviewer: ana.id, roles: ana.roles, ownedRequesters: OWNED.ana ?? [], now: NOW, order, limit: 40 };
        expect(await store.countActionable({ ...query, limit: 1 })).toBe(expected.length);
        // From the first row of the fourth page, backward gives the third page, in list order.
        const first = expected[120] as string;
        const request = (await everything()).find((candidate) => candidate.id === first) as ApprovalRequest;
        const position = order === 'deadline' ? { after: { expiresAt: request.expiresAt, id: request.id } } : { before: { createdAt: request.createdAt, id: request.id } };
        expect((await store.listActionable({ ...query, ...position, backward: true })).map((item) => item.id)).toEqual(expected.slice(80, 120));
        const nearStart = expected[10] as string;
        const early = (await everything()).find((candidate) => candidate.id === nearStart) as ApprovalRequest;
        const earlyPosition = order === 'deadline' ? { after: { expiresAt: early.expiresAt, id: early.id } } : { before: { createdAt: early.createdAt, id: early.id } };
        expect((await store.listActionable({ ...query, ...earlyPosition, backward: true })).map((item) => item.id)).toEqual(expected.slice(0, 10));
      });
    }

    it('finds a reviewer their few requests behind many newer ones for others', async () => {
      const newer = Array.from({ length: 300 }, (_, index) => ({
        ...newRequest(`apr_flood${String(index).padStart(5, '0')}`).request,
        requirements: requirements(['ops']),
        createdAt: new Date(NOW.getTime() + 1_000 + index).toISOString(),
        expiresAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
      }));
      for (const request of newer) await store.createRequest(request, []);
      const seeded = await everything();
      const page = await store.listActionable({ reviewer: ana.id, roles: ana.roles, ownedRequesters: OWNED.ana ?? [], now: NOW, limit: 5 });
      expect(page.map((request) => request.id)).toEqual(sorted(actionableFor(ana, seeded, NOW), 'newest').slice(0, 5));
    });

    it('pages without skipping or repeating while new requests arrive between pages', async () => {
      const expected = sorted(actionableFor(ana, await everything(), NOW), 'newest');
      let arrivals = 0;
      const writes: Promise<unknown>[] = [];
      const ids = await pageThrough(store, ana, {
        order: 'newest',
        limit: 50,
        between: async () => {
          // Newer than any page so far, each one ana could act on: they belong before the cursor.
          // Not awaited: they are written while the next pages are read.
          for (let index = 0; index < 5; index += 1) {
            arrivals += 1;
            const request = { ...newRequest(`apr_arrival${String(arrivals).padStart(4, '0')}`).request, requirements: requirements(['finance']), createdAt: new Date(NOW.getTime() + arrivals).toISOString(), expiresAt: new Date(NOW.getTime() + 3_600_000).toISOString() };
            writes.push(store.createRequest(request, []));
          }
        },
      });
      await Promise.all(writes);
      expect(arrivals).toBeGreaterThan(0);
      expect(ids).toEqual(expected);
      // The arrivals are on the first page of a fresh read.
      const fresh = await store.listActionable({ reviewer: ana.id, roles: ana.roles, ownedRequesters: OWNED.ana ?? [], now: NOW, limit: 5 });
      expect(fresh.map((request) => request.id)).toEqual([`apr_arrival${String(arrivals).padStart(4, '0')}`, ...Array.from({ length: 4 }, (_, index) => `apr_arrival${String(arrivals - index - 1).padStart(4, '0')}`)]);
    });

    it('follows each change in the transaction that writes it: a decision, an edit that adds a role, an expiry, filters', async () => {
      const list = async (extra: Partial<ActionableQuery> = {}) =>
        (await store.listActionable({ reviewer: ana.id, roles: ana.roles, ownedRequesters: OWNED.ana ?? [], now: NOW, limit: 1000, ...extra })).map((request) => request.id);
      const before = await list();
      const decided = before[0] as string;
      await store.updateRequest(decided, (current) => ({
        request: { ...current, decisions: [...current.decisions, { reviewer: 'ana', verdict: 'approve', channel: 'api', at: NOW.toISOString(), argsHash: current.approvedArgsHash }] },
        events: [],
        result: undefined,
      }));
      expect(await list()).not.toContain(decided);
      // A security-only request ana cannot approve, until an edit puts it under a rule that also needs legal.
      const securityOnly = (await everything()).find((request) => request.status === 'pending' && !request.alsoRequired && request.requirements.approverRoles.join() === 'security' && request.requester === 'agent-1' && request.onBehalfOf === undefined && Date.parse(request.expiresAt) > NOW.getTime() && request.decisions.length === 0);
      expect(securityOnly).toBeDefined();
      const edited = securityOnly?.id as string;
      expect(await list()).not.toContain(edited);
      await store.updateRequest(edited, (current) => ({ request: { ...current, alsoRequired: [requirements(['legal'])] }, events: [], result: undefined }));
      expect(await list()).toContain(edited);
      expect(await list({ tool: 'payment.send' })).toContain(edited);
      expect(await list({ tool: 'other.tool' })).toEqual([]);
      expect(await list({ requester: 'agent-3' })).not.toContain(edited);
      await store.updateRequest(edited, (current) => ({ request: { ...current, status: 'expired' }, events: [], result: undefined }));
      expect(await list()).not.toContain(edited);
    });

    it('builds the index for a database written before it existed (migration), once', async () => {
      const expected = sorted(actionableFor(ana, await everything(), NOW), 'newest');
      await store.close();
      await factory.sql('DROP TABLE request_roles');
      await factory.sql('DROP TABLE request_decided');
      await factory.sql("DELETE FROM signoff_migrations WHERE name = '0001-actionable-index'");
      store = await factory.reopen();
      expect(await pageThrough(store, ana, { order: 'newest', limit: 100 })).toEqual(expected);
      expect(await factory.sql("SELECT name FROM signoff_migrations WHERE name = '0001-actionable-index'")).toHaveLength(1);
    });
  });
}
