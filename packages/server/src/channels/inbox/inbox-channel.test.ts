import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalRequest } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../audit/audit-chain.js';
import { loadServerConfig, sha256Hex } from '../../config/server-config.js';
import { startLocalControlPlane, type LocalControlPlane } from '../../local-control-plane.js';

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
    when: { args.amount: { gt: 100 } }
    reason: "Payment of {args.amount} to {args.to}"
    metadata: { required_approvals: 1, approver_roles: [finance], approval_timeout_minutes: 30 }
  - id: quick-deploys
    tool: deploy.run
    action: escalate
    metadata: { approver_roles: [finance], approval_timeout_minutes: 0.02 }
  - tool: payment.send
    action: allow
`;
const REVIEWERS = [
  { id: 'ana', name: 'Ana Lima', roles: ['finance'] },
  { id: 'bo', name: 'Bo Berg', roles: ['finance'] },
  { id: 'sam', name: 'Sam Okafor', roles: ['security'] },
];

interface Page {
  readonly status: number;
  readonly location: string | null;
  readonly headers: Headers;
  readonly text: string;
}

/** A cookie-keeping HTTP client that does what a browser does with the inbox's forms, and no more. */
function browser(baseUrl: string) {
  const cookies = new Map<string, string>();
  async function request(method: 'GET' | 'POST', path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookies.size ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = (line.split(';')[0] as string).split(/=(.*)/s) as [string, string];
      if (/max-age=0/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return { status: response.status, location: response.headers.get('location'), headers: response.headers, text: await response.text() };
  }
  return {
    cookies,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, form: Record<string, string>, headers?: Record<string, string>) => request('POST', path, form, headers),
    async signIn(key: string, next = '/inbox'): Promise<Page> {
      const login = await request('GET', `/inbox/login?next=${encodeURIComponent(next)}`);
      return request('POST', '/inbox/login', { csrf: tokenFor(login.text, '/inbox/login'), next, key });
    },
  };
}
type Browser = ReturnType<typeof browser>;

/** The CSRF token of the form posting to `action`. */
function tokenFor(page: string, action: string): string {
  const form = new RegExp(`<form[^>]*action="${action}"[^>]*>[\\s\\S]*?name="csrf" value="([^"]+)"`).exec(page);
  if (!form) throw new Error(`no form posting to ${action} in:\n${page}`);
  return form[1] as string;
}
const argsHashOn = (page: string): string => /name="argsHash" value="([0-9a-f]{64})"/.exec(page)?.[1] ?? '';

let controlPlane: LocalControlPlane;
let requestCount = 0;

/** Asks the control plane as the agent (the policy escalates payments over 100). */
async function ask(tool: string, args: unknown, extra: Record<string, unknown> = {}): Promise<ApprovalRequest> {
  const response = await fetch(`${controlPlane.url}/v1/approvals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${controlPlane.agentKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool, args, idempotencyKey: `inbox-test-${(requestCount += 1)}`, ...extra }),
  });
  return (await response.json()) as ApprovalRequest;
}
async function signedIn(reviewerId: string): Promise<Browser> {
  const session = browser(controlPlane.url);
  expect((await session.signIn(controlPlane.reviewerKey(reviewerId))).status).toBe(303);
  return session;
}
/** Posts the Approve or Deny form of a request page, as a browser would (extra fields override). */
async function decide(session: Browser, id: string, verdict: 'approve' | 'deny', fields: Record<string, string> = {}): Promise<Page> {
  const page = await session.get(`/inbox/requests/${id}`);
  const action = `/inbox/requests/${id}/decide`;
  return session.post(action, { csrf: tokenFor(page.text, action), verdict, argsHash: argsHashOn(page.text), comment: '', ...fields });
}
const auditOf = async (type: string) => (await controlPlane.store.readAudit()).filter((entry) => entry.type === type);

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: POLICY, reviewers: REVIEWERS, inbox: {} });
});
afterAll(async () => controlPlane?.close());

describe('the web inbox, over HTTP', () => {
  it('sends signed-out visitors to sign in, then back to the deep link they opened', async () => {
    const request = await ask('payment.send', { to: 'acme', amount: 500 });
    const visitor = browser(controlPlane.url);
    expect(await visitor.get('/inbox')).toMatchObject({ status: 303, location: '/inbox/login' });
    expect(await visitor.get('/inbox/history')).toMatchObject({ status: 303, location: '/inbox/login?next=%2Finbox%2Fhistory' });
    const deepLink = await visitor.get(`/inbox/requests/${request.id}`);
    expect(deepLink).toMatchObject({ status: 303, location: `/inbox/login?next=${encodeURIComponent(`/inbox/requests/${request.id}`)}` });

    const login = await visitor.get(deepLink.location as string);
    expect(login.status).toBe(200);
    expect(login.headers.getSetCookie().join('\n')).toMatch(/signoff_login=[\w-]+; Max-Age=3600; Path=\/inbox; HttpOnly; SameSite=Lax/);
    const signIn = await visitor.post('/inbox/login', { csrf: tokenFor(login.text, '/inbox/login'), next: `/inbox/requests/${request.id}`, key: controlPlane.reviewerKey('ana') });
    expect(signIn).toMatchObject({ status: 303, location: `/inbox/requests/${request.id}` });
    const sessionCookie = signIn.headers.getSetCookie().find((line) => line.startsWith('signoff_session='));
    expect(sessionCookie).toMatch(/; Max-Age=43200; Path=\/inbox; HttpOnly; SameSite=Lax$/); // loopback http: not Secure
    expect(visitor.cookies.has('signoff_login')).toBe(false);
    const page = await visitor.get(`/inbox/requests/${request.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Signed in as Ana Lima (ana)');

    // A tampered session is no session; a sign-in never redirects off the inbox.
    const forged = browser(controlPlane.url);
    forged.cookies.set('signoff_session', `${(visitor.cookies.get('signoff_session') as string).slice(0, -2)}xx`);
    expect(await forged.get('/inbox')).toMatchObject({ status: 303, location: '/inbox/login' });
    expect((await browser(controlPlane.url).signIn(controlPlane.reviewerKey('ana'), 'https://evil.example/')).location).toBe('/inbox');
  });

  it('refuses a wrong key or an agent key with one generic message, and audits each', async () => {
    const before = (await auditOf('access.refused')).length;
    const visitor = browser(controlPlane.url);
    for (const key of ['sk_signoff_not_a_real_key_000000', controlPlane.agentKey]) {
      const page = await visitor.signIn(key);
      expect(page.status).toBe(401);
      expect(page.text).toContain('Sign-in failed: that is not a reviewer key on this server.');
      expect(page.text).not.toContain(key);
    }
    expect(visitor.cookies.has('signoff_session')).toBe(false);
    const refusals = (await auditOf('access.refused')).slice(before);
    expect(refusals.map((entry) => [entry.channel, entry.actor, entry.detail.reason])).toEqual([
      ['inbox', 'unknown', 'unknown key'],
      ['inbox', 'unknown', 'an agent key tried to sign in'],
    ]);
  });

  it('refuses a form without a valid CSRF token, for another action, or from another site: 403, audited, nothing decided', async () => {
    const request = await ask('payment.send', { to: 'acme', amount: 250 });
    const ana = await signedIn('ana');
    const page = await ana.get(`/inbox/requests/${request.id}`);
    const action = `/inbox/requests/${request.id}/decide`;
    const valid = tokenFor(page.text, action);
    const form = { verdict: 'approve', argsHash: argsHashOn(page.text), comment: '' };
    const before = (await auditOf('access.refused')).length;

    const attempts: Array<[Record<string, string>, Record<string, string>]> = [
      [form, {}],
      [{ ...form, csrf: 'forged-token' }, {}],
      [{ ...form, csrf: tokenFor(page.text, '/inbox/logout') }, {}],
      [{ ...form, csrf: valid }, { origin: 'https://evil.example' }],
      [{ ...form, csrf: valid }, { 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [fields, headers] of attempts) {
      const refused = await ana.post(action, fields, headers);
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('nothing was done');
    }
    // Another reviewer's token does not work in this session either.
    const bo = await signedIn('bo');
    expect((await bo.post(action, { ...form, csrf: valid })).status).toBe(403);
    // Nor does a sign-in form without its cookie, or a sign-out without a token.
    expect((await browser(controlPlane.url).post('/inbox/login', { csrf: 'x', next: '/inbox', key: controlPlane.reviewerKey('ana') })).status).toBe(403);
    expect((await ana.post('/inbox/logout', {})).status).toBe(403);
    expect((await ana.get('/inbox')).status).toBe(200);

    expect((await controlPlane.service.get(request.id))?.decisions).toEqual([]);
    const refusals = (await auditOf('access.refused')).slice(before);
    expect(refusals.map((entry) => entry.detail.reason)).toEqual([
      'missing CSRF token',
      'invalid CSRF token',
      'invalid CSRF token',
      'cross-site form post',
      'cross-site form post',
      'invalid CSRF token',
      'invalid CSRF token',
      'missing CSRF token',
    ]);
    expect(refusals.every((entry) => entry.channel === 'inbox')).toBe(true);
    expect(refusals.slice(0, 5).every((entry) => entry.actor === 'ana' && entry.requestId === request.id)).toBe(true);
    // The same form, done right, is accepted.
    expect((await ana.post(action, { ...form, csrf: valid }, { origin: controlPlane.url, 'sec-fetch-site': 'same-origin' })).status).toBe(303);
  });

  it('escapes a script payload in args and reason, and serves pages under a no-script CSP', async () => {
    const payload = { to: '<script>alert("to")</script>', amount: 900, memo: '"><img src=x onerror=alert(1)>', note: 'pay\u202Eevil' };
    const request = await ask('payment.send', payload);
    const ana = await signedIn('ana');
    for (const path of [`/inbox/requests/${request.id}`, '/inbox']) {
      const page = await ana.get(path);
      expect(page.status).toBe(200);
      // The one script is the inbox's own file; nothing from the payload becomes markup.
      expect(page.text.replace('<script src="/inbox/live.js" defer></script>', '')).not.toMatch(/<script|<img/i);
      expect(page.text).toContain('&lt;script&gt;alert(&quot;to&quot;)&lt;/script&gt;');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[\w+/=]+'; form-action 'self'; frame-ancestors 'none'/);
      expect(csp).not.toContain('unsafe');
      expect(csp).toContain("script-src 'self'; connect-src 'self'");
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
    }
    const page = await ana.get(`/inbox/requests/${request.id}`);
    expect(page.text).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).not.toContain('\u202E');
    expect(page.text).toContain('pay\\u202eevil');
  });

  it('decides through the approval engine, records channel inbox, and shows it in history', async () => {
    const first = await ask('payment.send', { to: 'acme', amount: 300 });
    const second = await ask('payment.send', { to: 'globex', amount: 400 });
    const waiting = fetch(`${controlPlane.url}/v1/approvals/${first.id}/wait?timeout=10`, { headers: { authorization: `Bearer ${controlPlane.agentKey}` } });
    const ana = await signedIn('ana');
    expect((await ana.get('/inbox')).text).toMatch(new RegExp(`href="/inbox/requests/${first.id}"[\\s\\S]*?29 minutes`));

    const approved = await decide(ana, first.id, 'approve', { comment: 'Invoice checked' });
    expect(approved).toMatchObject({ status: 303, location: `/inbox/requests/${first.id}?recorded=approve` });
    expect((await ana.get(approved.location as string)).text).toContain('Your approval was recorded. The request is approved: Approved by Ana Lima.');
    expect(await ((await waiting).json())).toMatchObject({ status: 'approved', granted: true, decisions: [{ reviewer: 'ana', verdict: 'approve', channel: 'inbox', comment: 'Invoice checked' }] });
    const bo = await signedIn('bo');
    expect((await decide(bo, second.id, 'deny', { comment: 'Not in the budget' })).status).toBe(303);

    const events = (await controlPlane.store.readAudit()).filter((entry) => entry.requestId === first.id || entry.requestId === second.id);
    expect(events.filter((entry) => entry.type !== 'request.created').map((entry) => [entry.type, entry.actor, entry.channel])).toEqual([
      ['decision.recorded', 'ana', 'inbox'],
      ['request.approved', 'ana', 'inbox'],
      ['decision.recorded', 'bo', 'inbox'],
      ['request.denied', 'bo', 'inbox'],
    ]);
    const history = (await ana.get('/inbox/history')).text;
    expect(history.indexOf(second.id)).toBeGreaterThan(-1);
    expect(history.indexOf(second.id)).toBeLessThan(history.indexOf(first.id)); // newest first
    expect(history).toContain('Denied by Bo Berg: Not in the budget');
    // Once decided, the request is no longer in ana's list, and its page has no forms.
    expect((await ana.get('/inbox')).text).not.toContain(first.id);
    expect((await ana.get(`/inbox/requests/${first.id}`)).text).not.toContain('/decide');
  });

  it('finds requests by status, tool, agent, reviewer, day and text, in pages that keep the filters', async () => {
    const [first, second, third] = [await ask('payment.send', { to: 'findme-1', amount: 300 }), await ask('payment.send', { to: 'findme-2', amount: 300 }), await ask('payment.send', { to: 'findme-3', amount: 300 })] as [ApprovalRequest, ApprovalRequest, ApprovalRequest];
    const ana = await signedIn('ana');
    expect((await decide(ana, first.id, 'approve', { comment: 'Invoice ok' })).status).toBe(303);
    expect((await decide(await signedIn('bo'), second.id, 'deny', { comment: 'Duplicate' })).status).toBe(303);
    const listed = async (query: string) => {
      const page = await ana.get(`/inbox/history?${query}`);
      return { status: page.status, text: page.text, ids: [first, second, third].filter((request) => page.text.includes(request.id)).map((request) => request.id) };
    };
    expect((await listed('q=findme-')).ids).toEqual([first.id, second.id]); // resolved only, by default
    expect((await listed('q=FINDME-&status=any')).ids).toEqual([first.id, second.id, third.id]);
    expect((await listed('q=findme-&status=pending')).ids).toEqual([third.id]);
    expect((await listed('q=findme-&reviewer=bo')).ids).toEqual([second.id]);
    expect((await listed('q=findme-&status=approved&reviewer=ana&tool=payment.send&agent=agent')).ids).toEqual([first.id]);
    expect((await listed('q=findme-&status=any&agent=someone-else')).ids).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await listed(`q=findme-&status=any&from=${today}&to=${today}`)).ids).toHaveLength(3);
    const none = await listed('q=findme-&status=any&from=2001-01-01&to=2001-01-31');
    expect(none.ids).toEqual([]);
    expect(none.text).toContain('No request matches these filters.');
    // The form shows what was asked, so a reviewer can refine it.
    expect(none.text).toContain('name="from" value="2001-01-01"');
    expect(none.text).toMatch(/<option value="any" selected>/);
    const bad = await listed('from=2026-02-30');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Nothing listed: from: expected a day like 2026-12-07.');

    // More than a page: the newest 50, then an "Older" link carrying the filters and a keyset cursor.
    for (let index = 0; index < 52; index += 1) await ask('payment.send', { to: `pager-${index}`, amount: 150 + index });
    const pageOne = await ana.get('/inbox/history?status=pending&q=pager-');
    expect(pageOne.text.match(/href="\/inbox\/requests\//g)).toHaveLength(50);
    const older = /<a href="([^"]+)" rel="next">Older/.exec(pageOne.text)?.[1]?.replaceAll('&amp;', '&');
    expect(older).toMatch(/^\/inbox\/history\?status=pending&q=pager-&cursor=/);
    // Requests arriving meanwhile do not shift the next page.
    await ask('payment.send', { to: 'pager-late', amount: 999 });
    const pageTwo = await ana.get(older as string);
    expect(pageTwo.text.match(/href="\/inbox\/requests\//g)).toHaveLength(2);
    expect(pageTwo.text).toContain('pager-0');
    expect(pageTwo.text).not.toContain('rel="next"');
    expect(pageTwo.text).toContain('<a href="/inbox/history?status=pending&amp;q=pager-">← Newest</a>');
    expect((await ana.get('/inbox/history?cursor=forged')).status).toBe(400);
  });

  it("shows a request's whole audit trail on its page, in order, with who, when and why", async () => {
    const request = await ask('payment.send', { to: 'trail-co', amount: 250 });
    const ana = await signedIn('ana');
    // A forged form is refused and audited against the request: it belongs in the trail too.
    expect((await ana.post(`/inbox/requests/${request.id}/decide`, { csrf: 'forged', verdict: 'approve' })).status).toBe(403);
    expect((await decide(ana, request.id, 'approve', { comment: 'Checked <b>twice</b>', args: JSON.stringify({ to: 'trail-co', amount: 200 }) })).status).toBe(303);
    const trail = await controlPlane.store.readRequestAudit(request.id);
    expect(trail.map((entry) => entry.type)).toEqual(['request.created', 'access.refused', 'decision.recorded', 'request.approved']);
    const page = (await ana.get(`/inbox/requests/${request.id}`)).text;
    const section = page.slice(page.indexOf('id="audit-trail"'));
    expect(section).toContain(`Audit trail (${trail.length} entries)`);
    const order = ['Created', 'Access refused', 'Decision recorded', 'Approved'].map((label) => section.indexOf(`">${label}</b>`));
    expect(order.every((position, index) => position > 0 && (index === 0 || position > (order[index - 1] as number)))).toBe(true);
    expect(section).toContain('Ana Lima (ana)');
    expect(section).toContain('invalid CSRF token');
    expect(section).toContain('Checked &lt;b&gt;twice&lt;/b&gt;');
    expect(section).toContain('<b>edited</b> true');
    // Hashes are cut to their first characters, the whole one in a tooltip.
    expect(section).toContain(`<code title="${trail[0]?.detail.argsHash}">${String(trail[0]?.detail.argsHash).slice(0, 12)}…</code>`);
  });

  it("shows the engine's refusals on the page: self-approval, wrong role, late", async () => {
    const own = await ask('payment.send', { to: 'acme', amount: 700 }, { onBehalfOf: 'ana' });
    const ana = await signedIn('ana');
    expect((await ana.get('/inbox')).text).not.toContain(own.id);
    const self = await decide(ana, own.id, 'approve', { comment: 'mine' });
    expect(self.status).toBe(403);
    expect(self.text).toContain('Refused: ana asked for this call (or acts through the agent that did) and cannot approve it. Nothing was changed.');
    expect(self.text).toContain('>mine</textarea>');

    const sam = await signedIn('sam');
    const wrongRole = await decide(sam, own.id, 'approve');
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.text).toContain('Refused: sam holds none of the roles this request needs: finance.');

    const deploy = await ask('deploy.run', { service: 'api' });
    const page = await ana.get(`/inbox/requests/${deploy.id}`);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(deploy.expiresAt) - Date.now() + 50));
    const action = `/inbox/requests/${deploy.id}/decide`;
    const late = await ana.post(action, { csrf: tokenFor(page.text, action), verdict: 'approve', argsHash: argsHashOn(page.text) });
    expect(late.status).toBe(409);
    expect(late.text).toContain('Refused: the request is already expired.');
    expect(late.text).not.toContain('/decide"'); // a resolved request has no forms

    const refused = (await auditOf('decision.refused')).filter((entry) => entry.requestId === own.id || entry.requestId === deploy.id);
    expect(refused.map((entry) => [entry.actor, entry.channel, entry.detail.code])).toEqual([
      ['ana', 'inbox', 'SELF_APPROVAL'],
      ['sam', 'inbox', 'NOT_AN_APPROVER'],
      ['ana', 'inbox', 'ALREADY_RESOLVED'],
    ]);
  });

  it('edits args on approval: invalid JSON and edits the policy denies are shown; a valid edit is what runs', async () => {
    const request = await ask('payment.send', { to: 'acme', amount: 500 });
    const bo = await signedIn('bo');
    const invalid = await decide(bo, request.id, 'approve', { args: '{"to": "acme",', comment: 'halve it' });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain('The edited args are not valid JSON');
    expect(invalid.text).toContain('{&quot;to&quot;: &quot;acme&quot;,</textarea>');
    expect(invalid.text).toContain('>halve it</textarea>');

    const denied = await decide(bo, request.id, 'approve', { args: '{"to": "wallet.eth", "amount": 500}' });
    expect(denied.status).toBe(422);
    expect(denied.text).toContain('Refused: the policy denies the edited args');

    const stale = await decide(bo, request.id, 'approve', { argsHash: 'f'.repeat(64) });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('the args changed since they were shown');
    expect((await controlPlane.service.get(request.id))?.decisions).toEqual([]);

    expect((await decide(bo, request.id, 'approve', { args: '{"to": "acme", "amount": 250}' })).status).toBe(303);
    const decided = await controlPlane.service.get(request.id);
    expect(decided).toMatchObject({ status: 'approved', approvedArgs: { to: 'acme', amount: 250 }, args: { to: 'acme', amount: 500 } });
    const page = (await bo.get(`/inbox/requests/${request.id}`)).text;
    expect(page).toContain('The agent originally sent');
    // The untouched edit box approves the args as they are.
    const plain = await ask('payment.send', { to: 'initech', amount: 120, note: 'caf\u00e9 \u202Ereversed' });
    expect((await decide(bo, plain.id, 'approve', { args: JSON.stringify(plain.args, null, 2) })).status).toBe(303);
    expect(await controlPlane.service.get(plain.id)).toMatchObject({ status: 'approved', approvedArgsHash: plain.argsHash });
  });

  it('streams changes to signed-in pages only, and ends the stream when its session signs out', async () => {
    expect((await fetch(`${controlPlane.url}/inbox/events`)).status).toBe(401);
    const script = await fetch(`${controlPlane.url}/inbox/live.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');

    const ana = await signedIn('ana');
    const cookie = [...ana.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const events = await fetch(`${controlPlane.url}/inbox/events`, { headers: { cookie } });
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toBe('text/event-stream');
    const reader = (events.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    const readUntil = async (text: string) => {
      while (!received.includes(text)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`the stream ended before ${JSON.stringify(text)}; it said:\n${received}`);
        received += chunk.value;
      }
    };
    await readUntil('event: hello');
    const request = await ask('payment.send', { to: 'acme', amount: 950 });
    await readUntil(`event: change\ndata: ${request.id}\n`);
    await controlPlane.decide(request.id, 'bo', 'deny');
    const page = await ana.get('/inbox');
    await ana.post('/inbox/logout', { csrf: tokenFor(page.text, '/inbox/logout') });
    await readUntil('event: bye');
    expect(await reader.read()).toMatchObject({ done: true });
    // The cookie is dead now: no new stream either.
    expect((await fetch(`${controlPlane.url}/inbox/events`, { headers: { cookie } })).status).toBe(401);
  });

  it('signs out with the sign-out form, and keeps an audit chain that verifies', async () => {
    const ana = await signedIn('ana');
    const page = await ana.get('/inbox');
    const copied = ana.cookies.get('signoff_session');
    expect(copied).toBeDefined();
    expect(await ana.post('/inbox/logout', { csrf: tokenFor(page.text, '/inbox/logout') })).toMatchObject({ status: 303, location: '/inbox/login' });
    expect(ana.cookies.has('signoff_session')).toBe(false);
    expect(await ana.get('/inbox')).toMatchObject({ status: 303, location: '/inbox/login' });
    // A copy of the cookie taken before signing out is dead too: the session ended on the server.
    ana.cookies.set('signoff_session', copied as string);
    expect(await ana.get('/inbox')).toMatchObject({ status: 303, location: '/inbox/login' });
    expect((await ana.get('/inbox/nowhere')).status).toBe(404);
    expect(verifyAuditChain(await controlPlane.store.readAudit())).toBeUndefined();
  });
});

describe('the inbox: config section', () => {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-inbox-config-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const load = (lines: string[], env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(directory, 'policy.yaml'), POLICY);
    writeFileSync(
      join(directory, 'signoff.yaml'),
      ['policy: policy.yaml', ...lines, 'reviewers: [{ id: ana, name: Ana, roles: [finance] }]', `api_keys: [{ name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex('k')}" }]`].join('\n'),
    );
    return loadServerConfig(join(directory, 'signoff.yaml'), env);
  };
  const secret = 'a-session-secret-of-at-least-32-bytes!!';

  it('reads the secret (inline or from the environment), session length and cookie security', () => {
    expect(load(['inbox:', `  session_secret: "${secret}"`]).inbox).toEqual({ sessionSecret: secret, sessionTtlMs: 12 * 3_600_000, secureCookies: true });
    expect(load(['public_url: http://127.0.0.1:8787', 'inbox: { session_secret_env: INBOX_SECRET, session_hours: 2 }'], { INBOX_SECRET: secret }).inbox).toEqual({
      sessionSecret: secret,
      sessionTtlMs: 2 * 3_600_000,
      secureCookies: false,
    });
    expect(load(['public_url: https://signoff.example.com', `inbox: { session_secret: "${secret}" }`]).inbox?.secureCookies).toBe(true);
    expect(load(['public_url: http://localhost:8787', `inbox: { session_secret: "${secret}", secure_cookies: true }`]).inbox?.secureCookies).toBe(true);
    expect(load([]).inbox).toBeUndefined();
  });

  it('reads the OpenID Connect section with its defaults, the client secret from the environment', () => {
    const oidc = ['public_url: https://signoff.example.com', `inbox:`, `  session_secret: "${secret}"`, '  oidc:', '    issuer: https://login.example.com/realms/acme', '    client_id: signoff'];
    expect(load(oidc).inbox?.oidc).toEqual({
      issuer: 'https://login.example.com/realms/acme',
      clientId: 'signoff',
      redirectPath: '/inbox/oidc/callback',
      scopes: ['openid', 'email'],
      mapBy: 'email',
      reviewers: {},
      allowUnverifiedEmail: false,
    });
    expect(load([...oidc, '    client_secret_env: OIDC_SECRET', '    map_by: sub', '    reviewers: { "00u1abcd": ana }'], { OIDC_SECRET: 's3cret' }).inbox?.oidc).toMatchObject({ clientSecret: 's3cret', mapBy: 'sub', reviewers: { '00u1abcd': 'ana' } });
  });

  it.each([
    [['inbox: { session_secret: short }'], {}, 'expected at least 32 bytes'],
    [['inbox: { session_hours: 2 }'], {}, 'expected exactly one of session_secret or session_secret_env'],
    [['inbox: { session_secret_env: INBOX_SECRET }'], { INBOX_SECRET: 'short' }, 'environment variable INBOX_SECRET must hold at least 32 bytes'],
    [[`inbox: { session_secret: "${secret}", cookie: x }`], {}, 'cookie'],
    [[`inbox: { session_secret: "${secret}", oidc: { issuer: "https://idp.example.com", client_id: signoff } }`], {}, 'inbox.oidc needs public_url'],
    [['public_url: https://signoff.example.com', `inbox: { session_secret: "${secret}", oidc: { issuer: "https://idp.example.com", client_id: signoff, reviewers: { "x@example.com": nobody } } }`], {}, "unknown reviewer 'nobody'"],
    [['public_url: https://signoff.example.com', `inbox: { session_secret: "${secret}", oidc: { issuer: "https://idp.example.com", client_id: signoff, map_by: sub } }`], {}, 'map_by: sub needs reviewers'],
    [['public_url: https://signoff.example.com', `inbox: { session_secret: "${secret}", oidc: { issuer: "https://idp.example.com", client_id: signoff, scopes: [email] } }`], {}, 'scopes must include openid'],
    [['public_url: https://signoff.example.com', `inbox: { session_secret: "${secret}", oidc: { issuer: "https://idp.example.com", client_id: signoff, redirect_path: /callback } }`], {}, 'expected a path under /inbox/'],
    [['public_url: https://signoff.example.com', `inbox: { session_secret: "${secret}", oidc: { issuer: "https://idp.example.com", client_id: signoff, client_secret_env: OIDC_SECRET } }`], {}, 'environment variable OIDC_SECRET is not set'],
  ])('refuses %j', (lines, env, message) => {
    expect(() => load(lines, env)).toThrow(message);
  });
});
