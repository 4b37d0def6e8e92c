import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignoffError } from '@signoff/core';

/** What an email link proves: this reviewer may give this verdict on this request until `exp`. */
export interface EmailTokenClaims {
  readonly approvalId: string;
  readonly reviewerId: string;
  readonly verdict: 'approve' | 'deny';
  /** Expiry, in Unix seconds. */
  readonly exp: number;
  /** Random, so no two links are alike (and a token never repeats across retried deliveries). */
  readonly nonce: string;
}

/** How a token checked out. `invalid` covers altered, truncated and foreign (other secret) tokens alike. */
export type EmailTokenCheck =
  | { readonly ok: true; readonly claims: EmailTokenClaims }
  | { readonly ok: false; readonly problem: 'invalid' }
  | { readonly ok: false; readonly problem: 'expired'; readonly claims: EmailTokenClaims };

/** The smallest link secret accepted, in bytes (the HMAC-SHA256 block of entropy we want). */
export const MIN_LINK_SECRET_BYTES = 32;
const TOKEN = /^([A-Za-z0-9_-]{16,1024})\.([A-Za-z0-9_-]{43})$/;
// Binds the MAC to this use, so a secret reused elsewhere cannot mint email links.
const DOMAIN = 'signoff.email-link.v1.';

/**
 * Signs an email link token: `base64url(JSON claims) "." base64url(HMAC-SHA256(secret, "signoff.email-link.v1." + first part))`.
 *
 * @example
 * const token = signEmailToken({ approvalId: 'apr_…', reviewerId: 'ana', verdict: 'approve', exp: 1_900_000_000 }, secret);
 */
export function signEmailToken(claims: Omit<EmailTokenClaims, 'nonce'> & { readonly nonce?: string }, secret: string): string {
  assertSecret(secret);
  const full: EmailTokenClaims = {
    approvalId: claims.approvalId,
    reviewerId: claims.reviewerId,
    verdict: claims.verdict,
    exp: claims.exp,
    nonce: claims.nonce ?? randomBytes(12).toString('base64url'),
  };
  const body = Buffer.from(JSON.stringify(full), 'utf8').toString('base64url');
  return `${body}.${mac(body, secret).toString('base64url')}`;
}

/**
 * Checks a token's signature (timing-safe), then its shape, then its expiry. Never throws on input.
 *
 * @example
 * const check = verifyEmailToken(token, secret);
 * if (!check.ok) return page(check.problem === 'expired' ? 410 : 400);
 */
export function verifyEmailToken(token: string, secret: string, now: Date = new Date()): EmailTokenCheck {
  assertSecret(secret);
  const parts = TOKEN.exec(token);
  if (!parts) return { ok: false, problem: 'invalid' };
  const [, body, signature] = parts as unknown as [string, string, string];
  // Compare the encoded text, not decoded bytes: base64url decoding ignores a last character's spare
  // bits, so several spellings decode alike, and an altered token must never pass.
  const given = Buffer.from(signature, 'ascii');
  const expected = Buffer.from(mac(body, secret).toString('base64url'), 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'invalid' };
  const claims = parseClaims(body);
  if (!claims) return { ok: false, problem: 'invalid' };
  if (claims.exp * 1000 <= now.getTime()) return { ok: false, problem: 'expired', claims };
  return { ok: true, claims };
}

function mac(body: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(DOMAIN + body).digest();
}

function assertSecret(secret: string): void {
  if (Buffer.byteLength(secret, 'utf8') < MIN_LINK_SECRET_BYTES) {
    throw new SignoffError('CONFIG_INVALID', `the email link secret must be at least ${MIN_LINK_SECRET_BYTES} bytes`);
  }
}

function parseClaims(body: string): EmailTokenClaims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const claims = value as Partial<Record<keyof EmailTokenClaims, unknown>> | null;
  if (
    typeof claims !== 'object' || claims === null ||
    typeof claims.approvalId !== 'string' ||
    typeof claims.reviewerId !== 'string' ||
    (claims.verdict !== 'approve' && claims.verdict !== 'deny') ||
    typeof claims.exp !== 'number' || !Number.isFinite(claims.exp) ||
    typeof claims.nonce !== 'string'
  ) {
    return undefined;
  }
  return { approvalId: claims.approvalId, reviewerId: claims.reviewerId, verdict: claims.verdict, exp: claims.exp, nonce: claims.nonce };
}
