import type { ApprovalRequest } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalControlPlane, type LocalControlPlane } from '../local-control-plane.js';
import { auditMark, csrfFor, formBrowser, summary } from './attack-helpers.js';

/** Attacks on the web inbox's forms (sessions, CSRF, origins, ids, rendering) over HTTP. */

const POLICY = `version: 1
default: deny
rules:
  - id: no-crypto
    tool: payment.send
    action: deny
    when: { args.to: { ends_with: ".eth" } }
  - id: big-payments
    tool: payment.send
    action: escalate
    reason: "Payment of {args.amount} to {args.to}"
    metadata: { required_approvals: 2, approver_roles: [finance], approval_timeout_minutes: 30 }
  - tool: payment.send
    action: allow
`;
const REVIEWERS = [
  { id: 'ana', name: 'Ana Lima', roles: ['finance'] },
  { id: 'bo', name: 'Bo Berg', roles: ['finance'] },
  { id: 'sam', name: 'Sam Okafor', roles: ['security'] },
];

let controlPlane: LocalControlPlane;
beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: POLICY, reviewers: REVIEWERS, inbox: {} });
});
afterAll(async () => controlPlane?.close());

let amount = 500;
async function ask(args: object = { to: 'acme', amount: (amount += 1) }, extra: object = {}): Promise<ApprovalRequest> {
  const response = await fetch(`${controlPlane.url}/v1/approvals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${controlPlane.agentKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool: 'payment.send', args, ...extra }),
  });
  return (await response.json()) as ApprovalRequest;
}
type Browser = ReturnType<typeof formBrowser>;
async function signedIn(reviewerId: string): Promise<Browser> {
  const session = formBrowser(controlPlane.url);
  expect((await session.signIn(controlPlane.reviewerKey(reviewerId))).status).toBe(303);
  return session;
}
/** The decide form's fields as the request page renders them. */
async function formOf(session: Browser, id: string): Promise<{ action: string; csrf: string; argsHash: string }> {
  const page = await session.get(`/inbox/requests/${id}`);
  const action = `/inbox/requests/${id}/decide`;
  return { action, csrf: csrfFor(page.text, action), argsHash: /name="argsHash" value="([0-9a-f]{64})"/.exec(page.text)?.[1] ?? '' };
}
const statusOf = async (id: string) => (await fetch(`${controlPlane.url}/v1/approvals/${id}`, { headers: { authorization: `Bearer ${controlPlane.agentKey}` } }).then((response) => response.json() as Promise<ApprovalRequest>)).status;

interface InboxCase {
  readonly name: string;
  readonly attack: (target: ApprovalRequest) => Promise<{ status: number }>;
  readonly status: number;
  readonly audit: ReadonlyArray<Record<string, unknown>>;
}

const cases: InboxCase[] = [
  {
    name: 'a decide form posted with no session → 401, access.refused (no inbox session)',
    attack: (target) => formBrowser(controlPlane.url).post(`/inbox/requests/${target.id}/decide`, { verdict: 'approve', csrf: 'x', argsHash: target.approvedArgsHash }),
    status: 401, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'unknown', reason: 'no inbox session' }],
  },
  {
    name: 'a tampered session cookie → 401, access.refused (no inbox session)',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      session.cookies.set('signoff_session', `${(session.cookies.get('signoff_session') as string).slice(0, -3)}abc`);
      return session.post(form.action, { csrf: form.csrf, verdict: 'approve', argsHash: form.argsHash });
    },
    status: 401, audit: [{ type: 'access.refused', channel: 'inbox', reason: 'no inbox session' }],
  },
  {
    name: 'CSRF: a decide form with no token → 403, access.refused (missing CSRF token)',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      return session.post(form.action, { verdict: 'approve', argsHash: form.argsHash });
    },
    status: 403, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'ana', reason: 'missing CSRF token' }],
  },
  {
    name: 'CSRF: a guessed token → 403, access.refused (invalid CSRF token)',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      return session.post(form.action, { csrf: `${form.csrf.slice(0, -4)}AAAA`, verdict: 'approve', argsHash: form.argsHash });
    },
    status: 403, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'ana', reason: 'invalid CSRF token' }],
  },
  {
    name: 'CSRF: a token minted for another request’s form, replayed on this one → 403, access.refused',
    attack: async (target) => {
      const session = await signedIn('ana');
      const other = await formOf(session, (await ask()).id);
      const form = await formOf(session, target.id);
      return session.post(form.action, { csrf: other.csrf, verdict: 'approve', argsHash: form.argsHash });
    },
    status: 403, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'ana', reason: 'invalid CSRF token' }],
  },
  {
    name: 'CSRF: a token from another reviewer’s session → 403, access.refused',
    attack: async (target) => {
      const bo = await signedIn('bo');
      const stolen = await formOf(bo, target.id);
      const ana = await signedIn('ana');
      return ana.post(stolen.action, { csrf: stolen.csrf, verdict: 'approve', argsHash: stolen.argsHash });
    },
    status: 403, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'ana', reason: 'invalid CSRF token' }],
  },
  {
    name: 'CSRF: a valid token posted from another origin → 403, access.refused (cross-site form post)',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      return session.post(form.action, { csrf: form.csrf, verdict: 'approve', argsHash: form.argsHash }, { origin: 'https://evil.example' });
    },
    status: 403, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'ana', reason: 'cross-site form post' }],
  },
  {
    name: 'CSRF: a valid token with Sec-Fetch-Site: cross-site → 403, access.refused',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      return session.post(form.action, { csrf: form.csrf, verdict: 'approve', argsHash: form.argsHash }, { 'sec-fetch-site': 'cross-site' });
    },
    status: 403, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'ana', reason: 'cross-site form post' }],
  },
  {
    name: 'login CSRF: a sign-in form with no token → 403, access.refused',
    attack: () => formBrowser(controlPlane.url).post('/inbox/login', { key: controlPlane.reviewerKey('ana'), next: '/inbox' }),
    status: 403, audit: [{ type: 'access.refused', channel: 'inbox', actor: 'unknown', reason: 'missing CSRF token' }],
  },
  {
    name: 'sign-in with a wrong key → 401, access.refused (unknown key)',
    attack: async () => {
      const visitor = formBrowser(controlPlane.url);
      return visitor.signIn('sk_signoff_wrong_key_000000000000000');
    },
    status: 401, audit: [{ type: 'access.refused', channel: 'inbox', reason: 'unknown key' }],
  },
  {
    name: 'sign-in with the agent key (wrong principal kind) → 401, access.refused',
    attack: () => formBrowser(controlPlane.url).signIn(controlPlane.agentKey),
    status: 401, audit: [{ type: 'access.refused', channel: 'inbox', reason: 'an agent key tried to sign in' }],
  },
  {
    name: 'edited args the policy denies (to: thief.eth) → 422, decision.refused EDIT_REFUSED',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      return session.post(form.action, { csrf: form.csrf, verdict: 'approve', argsHash: form.argsHash, comment: '', args: JSON.stringify({ to: 'thief.eth', amount: 900 }) });
    },
    status: 422, audit: [{ type: 'decision.refused', channel: 'inbox', actor: 'ana', code: 'EDIT_REFUSED' }],
  },
  {
    name: 'an altered argsHash field → 409, decision.refused ARGS_CHANGED',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      return session.post(form.action, { csrf: form.csrf, verdict: 'approve', argsHash: 'f'.repeat(64) });
    },
    status: 409, audit: [{ type: 'decision.refused', channel: 'inbox', actor: 'ana', code: 'ARGS_CHANGED' }],
  },
  {
    name: 'wrong role in the inbox (security on a finance-only payment) → 403, decision.refused NOT_AN_APPROVER',
    attack: async (target) => {
      const session = await signedIn('sam');
      const form = await formOf(session, target.id);
      return session.post(form.action, { csrf: form.csrf, verdict: 'approve', argsHash: form.argsHash });
    },
    status: 403, audit: [{ type: 'decision.refused', channel: 'inbox', actor: 'sam', code: 'NOT_AN_APPROVER' }],
  },
  {
    name: 'quorum padding via two channels: ana approves in the inbox, then by API → 409, decision.refused DUPLICATE_DECISION',
    attack: async (target) => {
      const session = await signedIn('ana');
      const form = await formOf(session, target.id);
      expect((await session.post(form.action, { csrf: form.csrf, verdict: 'approve', argsHash: form.argsHash })).status).toBe(303);
      const response = await fetch(`${controlPlane.url}/v1/approvals/${target.id}/decision`, {
        method: 'POST',
        headers: { authorization: `Bearer ${controlPlane.reviewerKey('ana')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ verdict: 'approve' }),
      });
      return { status: response.status };
    },
    status: 409,
    audit: [
      { type: 'decision.recorded', channel: 'inbox', actor: 'ana' },
      { type: 'decision.refused', channel: 'api', actor: 'ana', code: 'DUPLICATE_DECISION' },
    ],
  },
  {
    name: 'path traversal in the inbox id (/inbox/requests/..%2F..%2Fetc%2Fpasswd) → 404 page (not audited: a read)',
    attack: async () => (await signedIn('ana')).get('/inbox/requests/..%2F..%2Fetc%2Fpasswd'),
    status: 404, audit: [],
  },
];

describe('attacks on the web inbox', () => {
  it.each(cases)('$name', async (attackCase) => {
    const target = await ask();
    expect(target.status).toBe('pending');
    const mark = await auditMark(controlPlane.store);
    const response = await attackCase.attack(target);
    expect(response.status).toBe(attackCase.status);
    const added = (await mark.added()).filter((entry) => entry.type !== 'request.created');
    expect(added.map(summary)).toMatchObject(attackCase.audit);
    expect(added).toHaveLength(attackCase.audit.length);
    expect(await statusOf(target.id)).toBe('pending');
  });

  it('XSS payloads in args and reason are escaped on the request page and in the list (request.created audited)', async () => {
    const payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const mark = await auditMark(controlPlane.store);
    const target = await ask({ to: payload, amount: 900, note: payload });
    const session = await signedIn('ana');
    for (const path of [`/inbox/requests/${target.id}`, '/inbox']) {
      const page = await session.get(path);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('<script>alert');
      expect(page.text).not.toContain('<img src=x');
    }
    expect((await session.get(`/inbox/requests/${target.id}`)).text).toContain('&lt;script&gt;');
    expect((await mark.added()).map(summary)).toMatchObject([{ type: 'request.created', requestId: target.id }]);
  });
});
