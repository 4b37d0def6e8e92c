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
