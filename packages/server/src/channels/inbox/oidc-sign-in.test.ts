import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcSignIn, type OidcSignInOptions } from './oidc-sign-in.js';
import { signInAtProvider, startTestOidcProvider, type TestOidcProvider } from './test-oidc-provider.js';

const PUBLIC_URL = 'http://127.0.0.1:8787';
const REVIEWERS = [
  { id: 'ana', name: 'Ana Lima', roles: ['finance'], email: 'Ana@Example.com' },
  { id: 'bo', name: 'Bo Berg', roles: ['finance'] },
];
let provider: TestOidcProvider;

beforeAll(async () => {
  provider = await startTestOidcProvider({
    clients: [
      {
        client_id: 'signoff',
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${PUBLIC_URL}/inbox/oidc/callback`],
        post_logout_redirect_uris: [`${PUBLIC_URL}/inbox/login`],
      },
    ],
    accounts: {
      ana: { email: 'ana@example.com' },
      'bo-sub': { email: 'bo@corp.example' },
      mallory: { email: 'mallory@example.com' },
      unverified: { email: 'ana@example.com', emailVerified: false },
    },
  });
});
afterAll(async () => provider?.close());

const signInWith = (options: Partial<OidcSignInOptions> = {}, clock = () => new Date()) =>
  createOidcSignIn({ issuer: provider.issuer, clientId: 'signoff', ...options }, { publicUrl: PUBLIC_URL, reviewers: REVIEWERS, now: clock });

describe('OpenID Connect sign-in against a real provider', () => {
  it('sends PKCE S256, state and nonce; maps a verified email (explicit, or a reviewer’s own) or a subject to a reviewer', async () => {
    const signIn = signInWith({ reviewers: { 'bo@corp.example': 'bo' } });
    const { url, transaction } = await signIn.start('/inbox/history', new Date());
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'signoff',
      response_type: 'code',
      scope: 'openid email',
      redirect_uri: `${PUBLIC_URL}/inbox/oidc/callback`,
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('code_challenge')).not.toContain(transaction.verifier);
    const callback = await signInAtProvider(url, 'ana');
    expect(callback.origin + callback.pathname).toBe(`${PUBLIC_URL}/inbox/oidc/callback`);
    expect(await signIn.finish(callback, transaction, new Date())).toMatchObject({ ok: true, reviewerId: 'ana', subject: 'ana@example.com', idToken: expect.stringMatching(/^ey/) });

    const bo = await signIn.start('/inbox', new Date());
    expect(await signIn.finish(await signInAtProvider(bo.url, 'bo-sub'), bo.transaction, new Date())).toMatchObject({ ok: true, reviewerId: 'bo' });

    const bySubject = signInWith({ mapBy: 'sub', reviewers: { 'bo-sub': 'bo' } });
    const sub = await bySubject.start('/inbox', new Date());
    expect(await bySubject.finish(await signInAtProvider(sub.url, 'bo-sub'), sub.transaction, new Date())).toMatchObject({ ok: true, reviewerId: 'bo', subject: 'bo-sub' });
    // By subject, an email is no way in.
    const anaBySubject = await bySubject.start('/inbox', new Date());
    expect(await bySubject.finish(await signInAtProvider(anaBySubject.url, 'ana'), anaBySubject.transaction, new Date())).toMatchObject({ ok: false, detail: { reason: 'unmapped subject' } });
  });

  it('refuses an unmapped person and an unverified email', async () => {
    const signIn = signInWith();
    const mallory = await signIn.start('/inbox', new Date());
    expect(await signIn.finish(await signInAtProvider(mallory.url, 'mallory'), mallory.transaction, new Date())).toEqual({
      ok: false,
      reason: 'mallory@example.com is not a reviewer on this server; ask your Signoff admin to add you',
      detail: { reason: 'unmapped subject', email: 'mallory@example.com', sub: 'mallory' },
    });
    const unverified = await signIn.start('/inbox', new Date());
    expect(await signIn.finish(await signInAtProvider(unverified.url, 'unverified'), unverified.transaction, new Date())).toMatchObject({ ok: false, detail: { reason: 'email not verified' } });
    // Some providers never send email_verified: an admin may accept that, knowingly.
    const trusting = signInWith({ allowUnverifiedEmail: true });
    const again = await trusting.start('/inbox', new Date());
    expect(await trusting.finish(await signInAtProvider(again.url, 'unverified'), again.transaction, new Date())).toMatchObject({ ok: true, reviewerId: 'ana' });
  });

  it('refuses a response for another sign-in: wrong state, wrong nonce, a code used twice', async () => {
    const signIn = signInWith();
    const first = await signIn.start('/inbox', new Date());
    const second = await signIn.start('/inbox', new Date());
    const callback = await signInAtProvider(first.url, 'ana');
    expect(await signIn.finish(callback, second.transaction, new Date())).toMatchObject({ ok: false, detail: { reason: 'state mismatch' } });
    // Same state, but the ID token carries the nonce of the sign-in the provider saw, not this one.
    const nonceSwapped = await signIn.finish(callback, { ...first.transaction, nonce: second.transaction.nonce }, new Date());
    expect(nonceSwapped).toMatchObject({ ok: false, detail: { code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', error: expect.stringContaining('nonce') } });
    // The provider redeems a code once: the nonce refusal above already spent this one.
    expect(await signIn.finish(callback, first.transaction, new Date())).toMatchObject({ ok: false, detail: { error: 'invalid_grant' } });
    // The PKCE verifier must match the challenge sent.
    const third = await signIn.start('/inbox', new Date());
    expect(await signIn.finish(await signInAtProvider(third.url, 'ana'), { ...third.transaction, verifier: second.transaction.verifier }, new Date())).toMatchObject({ ok: false, detail: { error: 'invalid_grant' } });
  });

  it('refuses an expired ID token and a sign-in that took too long, judged by the server’s clock', async () => {
    const twoHoursAhead = () => new Date(Date.now() + 2 * 3_600_000);
    const late = signInWith({}, twoHoursAhead);
    const started = await late.start('/inbox', new Date());
    const callback = await signInAtProvider(started.url, 'ana');
    const outcome = await late.finish(callback, { ...started.transaction, exp: Math.floor(twoHoursAhead().getTime() / 1000) + 60 }, twoHoursAhead());
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringContaining('expired'), detail: { code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' } });
    const slow = await signInWith().start('/inbox', new Date());
    expect(await signInWith().finish(new URL(`${PUBLIC_URL}/inbox/oidc/callback?code=x&state=${slow.transaction.state}`), slow.transaction, new Date(Date.now() + 11 * 60_000))).toMatchObject({ ok: false, detail: { reason: 'sign-in expired' } });
  });

  it('refuses an ID token whose signature does not verify, though it came straight from the token endpoint', async () => {
    // The payload stays intact (right iss, aud, nonce, exp): only the provider's signature is broken.
    const forging = await startTestOidcProvider({
      clients: [{ client_id: 'signoff', token_endpoint_auth_method: 'none', redirect_uris: [`${PUBLIC_URL}/inbox/oidc/callback`] }],
      accounts: { ana: { email: 'ana@example.com' } },
      alterIdToken: (idToken) => {
        const [header, payload, signature] = idToken.split('.') as [string, string, string];
        const bytes = Buffer.from(signature, 'base64url');
        bytes[0] = (bytes[0] as number) ^ 0xff;
        return `${header}.${payload}.${bytes.toString('base64url')}`;
      },
    });
    try {
      const signIn = createOidcSignIn({ issuer: forging.issuer, clientId: 'signoff' }, { publicUrl: PUBLIC_URL, reviewers: REVIEWERS, now: () => new Date() });
      const { url, transaction } = await signIn.start('/inbox', new Date());
      const outcome = await signIn.finish(await signInAtProvider(url, 'ana'), transaction, new Date());
      expect(outcome).toMatchObject({ ok: false, detail: { error: expect.stringMatching(/signature/i) } });
    } finally {
      await forging.close();
    }
  });

  it('says what the provider refused, and builds its sign-out URL', async () => {
    const signIn = signInWith();
    const { transaction } = await signIn.start('/inbox', new Date());
    expect(await signIn.finish(new URL(`${PUBLIC_URL}/inbox/oidc/callback?error=access_denied&error_description=User+cancelled&state=${transaction.state}`), transaction, new Date())).toMatchObject({
      ok: false,
      reason: 'the identity provider refused the sign-in (access_denied: User cancelled)',
    });
    const url = await signIn.endSessionUrl({ postLogoutRedirectUri: `${PUBLIC_URL}/inbox/login`, idTokenHint: 'eyJ.hint' });
    expect(url?.href.startsWith(`${provider.issuer}/`)).toBe(true);
    expect(Object.fromEntries(url?.searchParams ?? [])).toEqual({ client_id: 'signoff', post_logout_redirect_uri: `${PUBLIC_URL}/inbox/login`, id_token_hint: 'eyJ.hint' });
  });

  it('starts nothing while the provider cannot be reached, and recovers once it can', async () => {
    const signIn = createOidcSignIn({ issuer: 'http://127.0.0.1:9', clientId: 'signoff' }, { publicUrl: PUBLIC_URL, reviewers: REVIEWERS, now: () => new Date() });
    await expect(signIn.start('/inbox', new Date())).rejects.toThrow();
    expect(await signIn.endSessionUrl({ postLogoutRedirectUri: `${PUBLIC_URL}/inbox/login` })).toBeUndefined();
  });
});
