import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignoffError } from '@signoff/core';

/** What a session cookie proves: this reviewer signed in with this key (or through the identity provider as this subject) until `exp`. */
export interface InboxSession {
  readonly reviewerId: string;
  /**
   * Key sign-ins: the first 16 hex characters of the sha256 of the key used, so removing the key
   * ends its sessions. Empty for identity-provider sign-ins.
   */
  readonly keyPrefix: string;
  /**
   * Identity-provider sign-ins: the mapped claim value (`sub` or email), so removing its mapping
   * ends its sessions. Absent for key sign-ins.
   */
  readonly oidcSubject?: string;
  /** Expiry, in Unix seconds. */
  readonly exp: number;
  /** Random; the CSRF tokens of this session are bound to it. */
  readonly nonce: string;
}

/** Signed session cookies and the CSRF tokens bound to them, under one secret. */
export interface InboxSessions {
  /** A new session's cookie value and claims. */
  issue(claims: { readonly reviewerId: string; readonly keyPrefix: string } | { readonly reviewerId: string; readonly oidcSubject: string }, now: Date): { readonly cookie: string; readonly session: InboxSession };
  /** The session a cookie carries, or `undefined` when it is absent, altered, foreign or expired. */
  verify(cookie: string | undefined, now: Date): InboxSession | undefined;
  /** The token a form posting to `action` carries, for the session (or login form) `nonce`. */
  csrfToken(nonce: string, action: string): string;
  /** Timing-safe check of a posted token. */
  checkCsrf(nonce: string, action: string, token: string): boolean;
  /** Signs a short-lived value the browser keeps for us (an identity-provider sign-in in progress). */
  seal(value: object): string;
  /** The value `seal` signed, or `undefined` when the text is absent, altered or foreign. */
  unseal(text: string | undefined): unknown;
}

/** The smallest session secret accepted, in bytes. */
export const MIN_SESSION_SECRET_BYTES = 32;
const COOKIE = /^([A-Za-z0-9_-]{16,1024})\.([A-Za-z0-9_-]{43})$/;
// Domain-separated, so a session MAC can never serve as a CSRF token (or the reverse), nor a
// secret reused elsewhere mint either.
const SESSION_DOMAIN = 'signoff.inbox-session.v1.';
const CSRF_DOMAIN = 'signoff.inbox-csrf.v1.';
const SEAL_DOMAIN = 'signoff.inbox-seal.v1.';

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
        ...('oidcSubject' in claims ? { keyPrefix: '', oidcSubject: claims.oidcSubject } : { keyPrefix: claims.keyPrefix }),
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
    seal(value) {
      const body = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
      return `${body}.${mac(SEAL_DOMAIN, body)}`;
    },
    unseal(text) {
      const parts = COOKIE.exec(text ?? '');
      if (!parts) return undefined;
      const [, body, signature] = parts as unknown as [string, string, string];
      if (!same(signature, mac(SEAL_DOMAIN, body))) return undefined;
      try {
        return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
      } catch {
        return undefined;
      }
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
  if (typeof claims !== 'object' || claims === null) return undefined;
  // Exactly one binding: a full key prefix (an empty one would match every key), or an identity-provider subject.
  const oidc = typeof claims.oidcSubject === 'string' && claims.oidcSubject.length > 0 && claims.keyPrefix === '';
  if (
    typeof claims.reviewerId !== 'string' ||
    !(oidc || (claims.oidcSubject === undefined && typeof claims.keyPrefix === 'string' && /^[0-9a-f]{16}$/.test(claims.keyPrefix))) ||
    typeof claims.exp !== 'number' || !Number.isFinite(claims.exp) ||
    typeof claims.nonce !== 'string' || claims.nonce.length < 16
  ) {
    return undefined;
  }
  return { reviewerId: claims.reviewerId, keyPrefix: claims.keyPrefix as string, ...(oidc ? { oidcSubject: claims.oidcSubject as string } : {}), exp: claims.exp, nonce: claims.nonce };
}
