import { SignoffError } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { signEmailToken, verifyEmailToken } from './email-token.js';

const secret = 'test-link-secret-0123456789abcdef-0123456789';
const claims = { approvalId: 'apr_0123456789abcdef', reviewerId: 'ana', verdict: 'approve', exp: Math.floor(Date.now() / 1000) + 600 } as const;

describe('email link tokens', () => {
  it('round-trips the claims with a fresh nonce each time', () => {
    const first = signEmailToken(claims, secret);
    const second = signEmailToken(claims, secret);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^[\w-]+\.[\w-]{43}$/);
    expect(verifyEmailToken(first, secret)).toMatchObject({ ok: true, claims });
  });

  it('refuses any altered character, a token signed with another secret, and junk', () => {
    const token = signEmailToken(claims, secret);
    for (let index = 0; index < token.length; index += 1) {
      if (token[index] === '.') continue;
      const altered = token.slice(0, index) + (token[index] === 'A' ? 'B' : 'A') + token.slice(index + 1);
      expect(verifyEmailToken(altered, secret), `altered at ${index}`).toEqual({ ok: false, problem: 'invalid' });
    }
    expect(verifyEmailToken(signEmailToken(claims, 'another-secret-0123456789abcdef-0123456789'), secret)).toEqual({ ok: false, problem: 'invalid' });
    expect(verifyEmailToken(token.split('.')[0]!, secret)).toEqual({ ok: false, problem: 'invalid' });
    expect(verifyEmailToken('', secret)).toEqual({ ok: false, problem: 'invalid' });
    expect(verifyEmailToken(`${token}.x`, secret)).toEqual({ ok: false, problem: 'invalid' });
  });

  it('reports an expired token with its claims', () => {
    const token = signEmailToken({ ...claims, exp: 1_000 }, secret);
    expect(verifyEmailToken(token, secret)).toMatchObject({ ok: false, problem: 'expired', claims: { reviewerId: 'ana', exp: 1_000 } });
    expect(verifyEmailToken(signEmailToken(claims, secret), secret, new Date((claims.exp + 1) * 1000))).toMatchObject({ problem: 'expired' });
  });

  it('will not sign or verify with a secret shorter than 32 bytes', () => {
    expect(() => signEmailToken(claims, 'short')).toThrow(SignoffError);
    expect(() => verifyEmailToken('a.b', 'short')).toThrow(/at least 32 bytes/);
  });
});
