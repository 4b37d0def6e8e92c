import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../__fixtures__/server-process.js';
import { verifyAuditChain } from '../../audit/audit-chain.js';
import { startLocalControlPlane, type LocalControlPlane } from '../../local-control-plane.js';
import { signInAtProvider, startTestOidcProvider, type TestOidcProvider } from './test-oidc-provider.js';

const POLICY = `version: 1
default: deny
rules:
  - { id: payments, tool: payment.send, action: escalate, metadata: { approver_roles: [finance] } }
`;
let provider: TestOidcProvider;
let controlPlane: LocalControlPlane;

beforeAll(async () => {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  provider = await startTestOidcProvider({
    clients: [{ client_id: 'signoff', token_endpoint_auth_method: 'none', redirect_uris: [`${publicUrl}/inbox/oidc/callback`], post_logout_redirect_uris: [`${publicUrl}/inbox/login`] }],
    accounts: { ana: { email: 'ana@example.com' }, mallory: { email: 'mallory@example.com' } },
  });
  controlPlane = await startLocalControlPlane({
    policy: POLICY,
    port,
    publicUrl,
    reviewers: [{ id: 'ana', name: 'Ana Lima', roles: ['finance'], email: 'ana@example.com' }],
    inbox: { oidc: { issuer: provider.issuer, client_id: 'signoff', label: 'Sign in with Test IdP' } },
  });
});
afterAll(async () => {
  await controlPlane?.close();
  await provider?.close();
});

/** Inbox cookies, as a browser keeps them for the inbox's site. */
function jar() {
  const cookies = new Map<string, string>();
  const get = async (path: string) => {
    const response = await fetch(new URL(path, controlPlane.url), { redirect: 'manual', headers: cookies.size ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = (line.split(';')[0] as string).split(/=(.*)/s) as [string, string];
      if (/max-age=0/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  };
  return { cookies, get };
}
const refusals = async () => (await controlPlane.store.readAudit()).filter((entry) => entry.type === 'access.refused' && entry.detail.path === '/inbox/oidc/callback');

describe('inbox sign-in through an OpenID provider, over HTTP', () => {
  it('offers the provider on the sign-in page beside the key form, and lands the mapped reviewer where they were going', async () => {
    const browser = jar();
    const login = await browser.get('/inbox/login?next=%2Finbox%2Fhistory');
    expect(login.text).toContain('<a class="button" href="/inbox/oidc/start?next=%2Finbox%2Fhistory">Sign in with Test IdP</a>');
    expect(login.text).toContain('name="key"');
    const start = await browser.get('/inbox/oidc/start?next=%2Finbox%2Fhistory');
    expect(start.status).toBe(303);
    expect(start.location?.startsWith(`${provider.issuer}/`)).toBe(true);
    const callback = await signInAtProvider(start.location as string, 'ana');
    const landed = await browser.get(callback.pathname + callback.search);
    expect(landed).toMatchObject({ status: 303, location: '/inbox/history' });
    expect((await browser.get('/inbox/history')).text).toContain('Signed in as Ana Lima (ana)');
  });

  it('refuses, with a page that says why, and audits: no sign-in in progress, wrong state, a replayed response, an unmapped person', async () => {
    const before = (await refusals()).length;
    // A callback this browser never started (the transaction cookie is missing).
    const stranger = jar();
    expect(await stranger.get('/inbox/oidc/callback?code=abc&state=xyz')).toMatchObject({ status: 400, text: expect.stringContaining('Sign-in refused: this browser has no sign-in in progress') });

    // The provider's answer to one sign-in, brought to a browser that started another: state mismatch.
    const victim = jar();
    const attacker = jar();
    const attackerStart = await attacker.get('/inbox/oidc/start');
    await victim.get('/inbox/oidc/start');
    const attackerCallback = await signInAtProvider(attackerStart.location as string, 'ana');
    const mixed = await victim.get(attackerCallback.pathname + attackerCallback.search);
    expect(mixed.status).toBe(400);
    expect(mixed.text).toContain('does not belong to the sign-in this browser started (state mismatch)');
    expect(victim.cookies.has('signoff_session')).toBe(false);

    // A response replayed with a copy of the transaction cookie: the sign-in completes once only.
    const ana = jar();
    const start = await ana.get('/inbox/oidc/start');
    const copied = ana.cookies.get('signoff_oidc') as string;
    const callback = await signInAtProvider(start.location as string, 'ana');
    expect((await ana.get(callback.pathname + callback.search)).status).toBe(303);
    const replay = jar();
    replay.cookies.set('signoff_oidc', copied);
    expect(await replay.get(callback.pathname + callback.search)).toMatchObject({ status: 400, text: expect.stringContaining('this sign-in response was already used') });
    expect(replay.cookies.has('signoff_session')).toBe(false);

    // Someone the provider knows but this server does not.
    const mallory = jar();
    const malloryStart = await mallory.get('/inbox/oidc/start');
    const malloryCallback = await signInAtProvider(malloryStart.location as string, 'mallory');
    const refused = await mallory.get(malloryCallback.pathname + malloryCallback.search);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Sign-in refused: mallory@example.com is not a reviewer on this server; ask your Signoff admin to add you.');
    expect(mallory.cookies.has('signoff_session')).toBe(false);

    expect((await refusals()).slice(before).map((entry) => [entry.actor, entry.channel, entry.detail.reason])).toEqual([
      ['unknown', 'inbox', 'no sign-in in progress'],
      ['unknown', 'inbox', 'state mismatch'],
      ['unknown', 'inbox', 'sign-in response replayed'],
      ['unknown', 'inbox', 'unmapped subject'],
    ]);
    expect(verifyAuditChain(await controlPlane.store.readAudit())).toBeUndefined();
  });

  it('signs out on the server (a copied cookie stops working) and at the provider (RP-initiated logout)', async () => {
    const ana = jar();
    const start = await ana.get('/inbox/oidc/start');
    const callback = await signInAtProvider(start.location as string, 'ana');
    await ana.get(callback.pathname + callback.search);
    const inbox = await ana.get('/inbox');
    expect(inbox.status).toBe(200);
    expect((await ana.get('/inbox/login')).status).toBe(303); // signed in: the sign-in page sends you on
    const copied = new Map(ana.cookies);
    const csrf = /action="\/inbox\/logout"[\s\S]*?name="csrf" value="([^"]+)"/.exec(inbox.text)?.[1] as string;
    const response = await fetch(`${controlPlane.url}/inbox/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: [...ana.cookies].map(([name, value]) => `${name}=${value}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(response.status).toBe(303);
    const providerLogout = new URL(response.headers.get('location') as string);
    expect(providerLogout.origin).toBe(provider.issuer);
    expect(providerLogout.searchParams.get('post_logout_redirect_uri')).toBe(`${controlPlane.url}/inbox/login`);
    expect(providerLogout.searchParams.get('id_token_hint')).toBe(copied.get('signoff_idt'));
    // The CSP lets the sign-out form go there, and nowhere else.
    expect(response.headers.get('content-security-policy')).toContain(`form-action 'self' ${provider.issuer};`);
    const thief = jar();
    for (const [name, value] of copied) thief.cookies.set(name, value);
    expect(await thief.get('/inbox')).toMatchObject({ status: 303, location: '/inbox/login' });
  });
});
