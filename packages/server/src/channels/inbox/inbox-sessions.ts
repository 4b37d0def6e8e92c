import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignoffError } from '@signoff/core';

/** What a session cookie proves: this reviewer signed in with this key until `exp`. */
export interface InboxSession {
  readonly reviewerId: string;
  /** The first 16 hex characters of the sha256 of the key used, so removing the key ends its sessions. */
  readonly keyPrefix: string;
  /** Expiry, in Unix seconds. */
  readonly exp: number;
  /** Random; the CSRF tokens of this session are bound to it. */
  readonly nonce: string;
}

/** Signed session cookies and the CSRF tokens bound to them, under one secret. */
export interface InboxSessions {
  /** A new session's cookie value and claims. */
  issue(claims: { readonly reviewerId: string; readonly keyPrefix: string }, now: Date): { readonly cookie: string; readonly session: InboxSession };
  /** The session a cookie carries, or `undefined` when it is absent, altered, foreign or expired. */
  verify(cookie: string | undefined, now: Date): InboxSession | undefined;
  /** The token a form posting to `action` carries, for the session (or login form) `nonce`. */
  csrfToken(nonce: string, action: string): string;
  /** Timing-safe check of a posted token. */
  checkCsrf(nonce: string, action: string, token: string): boolean;
}

/** The smallest session secret accepted, in bytes. */
export const MIN_SESSION_SECRET_BYTES = 32;
const COOKIE = /^([A-Za-z0-9_-]{16,1024})\.([A-Za-z0-9_-]{43})$/;
// Domain-separated, so a session MAC can never serve as a CSRF token (or the reverse), nor a
// secret reused elsewhere mint either.
const SESSION_DOMAIN = 'signoff.inbox-session.v1.';
const CSRF_DOMAIN = 'signoff.inbox-csrf.v1.';

/**
 * Sessions for the web inbox: `base64url(JSON claims) "." base64url(HMAC-SHA256(secret, domain + first part))`,
 * stateless, so any replica sharing the secret accepts them. CSRF tokens are HMAC(secret, nonce + action).
 *
 * @example
 * const sessions = createInboxSessions(secret, 12 * 3_600_000);
 * const { cookie } = sessions.issue({ reviewerId: 'ana', keyPrefix }, new Date());
 */
export function createInboxSessions(secret: string, ttlMs: number): InboxSessions {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SESSION_SECRET_BYTES) {
    throw new SignoffError('CONFIG_INVALID', `inbox.session_secret must be at least ${MIN_SESSION_SECRET_BYTES} bytes`);
  }
  const mac = (domain: string, text: string): string => createHmac('sha256', secret).update(domain + text).digest('base64url');
  // Compare the encoded text: base64url decoding ignores spare bits, so altered spellings must not pass.
  const same = (given: string, expected: string): boolean => {
    const a = Buffer.from(given, 'utf8');
    const b = Buffer.from(expected, 'utf8');
    return a.length === b.length && timingSafeEqual(a, b);
  };

  return {
    issue(claims, now) {
      const session: InboxSession = {
        reviewerId: claims.reviewerId,
        keyPrefix: claims.keyPrefix,
        exp: Math.floor((now.getTime() + ttlMs) / 1000),
        nonce: randomBytes(18).toString('base64url'),
      };
      const body = Buffer.from(JSON.stringify(session), 'utf8').toString('base64url');
      return { cookie: `${body}.${mac(SESSION_DOMAIN, body)}`, session };
    },
    verify(cookie, now) {
      const parts = COOKIE.exec(cookie ?? '');
      if (!parts) return undefined;
      const [, body, signature] = parts as unknown as [string, string, string];
      if (!same(signature, mac(SESSION_DOMAIN, body))) return undefined;
      const session = parseSession(body);
      return session && session.exp * 1000 > now.getTime() ? session : undefined;
    },
    csrfToken(nonce, action) {
      return mac(CSRF_DOMAIN, `${nonce}\n${action}`);
    },
    checkCsrf(nonce, action, token) {
      return nonce.length > 0 && same(token, mac(CSRF_DOMAIN, `${nonce}\n${action}`));
    },
  };
}

function parseSession(body: string): InboxSession | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const claims = value as Partial<Record<keyof InboxSession, unknown>> | null;
  if (
    typeof claims !== 'object' || claims === null ||
    typeof claims.reviewerId !== 'string' ||
    typeof claims.keyPrefix !== 'string' || !/^[0-9a-f]{16}$/.test(claims.keyPrefix) ||
    typeof claims.exp !== 'number' || !Number.isFinite(claims.exp) ||
    typeof claims.nonce !== 'string' || claims.nonce.length < 16
  ) {
    return undefined;
  }
  return { reviewerId: claims.reviewerId, keyPrefix: claims.keyPrefix, exp: claims.exp, nonce: claims.nonce };
}
