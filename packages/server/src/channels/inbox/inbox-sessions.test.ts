import { createHmac } from 'node:crypto';
import { SignoffError } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { createInboxSessions } from './inbox-sessions.js';

const SECRET = 'inbox-session-secret-for-tests-0123456789';
const HOUR = 3_600_000;
const at = new Date('2026-11-24T06:00:00Z');
const claims = { reviewerId: 'ana', keyPrefix: '0123456789abcdef' };

describe('inbox sessions', () => {
  const sessions = createInboxSessions(SECRET, 12 * HOUR);

  it('round-trips a session until it expires', () => {
    const { cookie, session } = sessions.issue(claims, at);
    expect(sessions.verify(cookie, new Date(at.getTime() + 11 * HOUR))).toEqual(session);
    expect(sessions.verify(cookie, new Date(at.getTime() + 12 * HOUR))).toBeUndefined();
  });

  it('refuses altered, foreign and malformed cookies', () => {
    const { cookie } = sessions.issue(claims, at);
    const [body, signature] = cookie.split('.') as [string, string];
    const promoted = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), reviewerId: 'sam' })).toString('base64url');
    expect(sessions.verify(`${promoted}.${signature}`, at)).toBeUndefined();
    expect(sessions.verify(`${body}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`, at)).toBeUndefined();
    expect(createInboxSessions(`${SECRET}-other`, HOUR).verify(cookie, at)).toBeUndefined();
    for (const bad of [undefined, '', 'x', `${body}.`, `${cookie}.x`]) expect(sessions.verify(bad, at)).toBeUndefined();
  });

  it('refuses a signed session without a full key prefix (it would match every key)', () => {
    const { cookie } = sessions.issue({ reviewerId: 'ana', keyPrefix: '' }, at);
    expect(sessions.verify(cookie, at)).toBeUndefined();
  });

  it('carries an identity-provider subject instead of a key prefix, never both and never neither', () => {
    const { cookie, session } = sessions.issue({ reviewerId: 'ana', oidcSubject: 'ana@example.com' }, at);
    expect(sessions.verify(cookie, at)).toEqual({ ...session, keyPrefix: '', oidcSubject: 'ana@example.com' });
    const forge = (claimsOf: object) => {
      const body = Buffer.from(JSON.stringify({ reviewerId: 'ana', exp: at.getTime() / 1000 + 60, nonce: 'n'.repeat(24), ...claimsOf })).toString('base64url');
      // Signed with the real secret, as the server would: only the claims' shape is under test here.
      return `${body}.${createHmac('sha256', SECRET).update(`signoff.inbox-session.v1.${body}`).digest('base64url')}`;
    };
    expect(sessions.verify(forge({ keyPrefix: '', oidcSubject: 'ana@example.com' }), at)).toMatchObject({ oidcSubject: 'ana@example.com' });
    expect(sessions.verify(forge({ keyPrefix: '0123456789abcdef', oidcSubject: 'x' }), at)).toBeUndefined();
    const { cookie: empty } = sessions.issue({ reviewerId: 'ana', oidcSubject: '' }, at);
    expect(sessions.verify(empty, at)).toBeUndefined();
  });

  it('seals values the browser keeps: altered or foreign seals read as nothing', () => {
    const sealed = sessions.seal({ state: 's', nonce: 'n' });
    expect(sessions.unseal(sealed)).toEqual({ state: 's', nonce: 'n' });
    expect(sessions.unseal(`${sealed.slice(0, -1)}${sealed.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(createInboxSessions(`${SECRET}-other`, HOUR).unseal(sealed)).toBeUndefined();
    // A session cookie is not a seal (domain-separated MACs), nor the reverse.
    expect(sessions.unseal(sessions.issue(claims, at).cookie)).toBeUndefined();
    expect(sessions.verify(sessions.seal({ ...claims, exp: at.getTime() / 1000 + 60, nonce: 'n'.repeat(24) }), at)).toBeUndefined();
  });

  it('binds CSRF tokens to the session nonce and the form action', () => {
    const { session } = sessions.issue(claims, at);
    const other = sessions.issue(claims, at).session;
    const token = sessions.csrfToken(session.nonce, '/inbox/logout');
    expect(sessions.checkCsrf(session.nonce, '/inbox/logout', token)).toBe(true);
    expect(sessions.checkCsrf(other.nonce, '/inbox/logout', token)).toBe(false);
    expect(sessions.checkCsrf(session.nonce, '/inbox/requests/apr_x/decide', token)).toBe(false);
    expect(sessions.checkCsrf(session.nonce, '/inbox/logout', '')).toBe(false);
    expect(sessions.checkCsrf('', '/inbox/logout', sessions.csrfToken('', '/inbox/logout'))).toBe(false);
  });

  it('needs a secret of at least 32 bytes', () => {
    expect(() => createInboxSessions('too-short', HOUR)).toThrow(SignoffError);
  });
});
