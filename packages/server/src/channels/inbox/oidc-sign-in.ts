import type * as Oidc from 'openid-client';
import type { Reviewer } from '../../engine/reviewer.js';

/** The inbox's OpenID Connect client settings (`inbox.oidc` in the server config). */
export interface OidcSignInOptions {
  /** The provider's issuer URL; its `/.well-known/openid-configuration` is read on first use. */
  readonly issuer: string;
  readonly clientId: string;
  /** For confidential clients (sent with HTTP Basic); absent for a public client, which PKCE alone protects. */
  readonly clientSecret?: string;
  /** Where the provider sends the browser back, under `/inbox/` (default `/inbox/oidc/callback`). */
  readonly redirectPath?: string;
  /** Requested scopes (default `openid email`); `openid` is always included. */
  readonly scopes?: readonly string[];
  /** Which ID token claim names the reviewer: `email` (default) or `sub`. */
  readonly mapBy?: 'email' | 'sub';
  /** Claim value → reviewer id. With `mapBy: email`, reviewers' own `email` also match. */
  readonly reviewers?: Readonly<Record<string, string>>;
  /** Accept an email the provider does not mark `email_verified: true` (some providers never send it). Default false. */
  readonly allowUnverifiedEmail?: boolean;
  /** The button's text (default "Sign in with single sign-on"). */
  readonly label?: string;
}

/** A sign-in in progress, kept (sealed) in the browser between the redirect and the callback. */
export interface OidcTransaction {
  readonly state: string;
  readonly nonce: string;
  /** The PKCE verifier: only its S256 challenge went to the provider. */
  readonly verifier: string;
  /** The inbox page to land on. */
  readonly next: string;
  /** Unix seconds after which the callback is refused. */
  readonly exp: number;
}

/** How a callback ended: a reviewer, or a refusal with a reason a person can act on (and the detail the audit keeps). */
export type OidcOutcome =
  | { readonly ok: true; readonly reviewerId: string; readonly subject: string; readonly idToken: string }
  | { readonly ok: false; readonly reason: string; readonly detail: Readonly<Record<string, unknown>> };

export interface OidcSignIn {
  readonly redirectPath: string;
  readonly label: string;
  /** Starts a sign-in: where to send the browser, and what it must bring back. */
  start(next: string, now: Date): Promise<{ readonly url: URL; readonly transaction: OidcTransaction }>;
  /** Completes it: checks state, exchanges the code with the PKCE verifier, validates the ID token, maps its subject. */
  finish(callbackUrl: URL, transaction: OidcTransaction, now: Date): Promise<OidcOutcome>;
  /** The reviewer a session's subject maps to now (a mapping removed from the config ends its sessions). */
  reviewerOf(subject: string): string | undefined;
  /** The provider's sign-out URL (RP-initiated logout), when it offers one. */
  endSessionUrl(input: { readonly idTokenHint?: string; readonly postLogoutRedirectUri: string }): Promise<URL | undefined>;
}

/** How long a started sign-in may take at the provider. */
const TRANSACTION_SECONDS = 600;
/** Plain http is accepted only for a provider on this machine (tests, local development). */
const LOOPBACK = /^http:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d+)?(\/|$)/;

/** openid-client, loaded when a reviewer first signs in: a server without OIDC never loads it. */
const loadOidc = (): Promise<typeof Oidc> => import('openid-client');

/**
 * Signs reviewers in to the inbox with OpenID Connect: authorization code flow with PKCE (S256),
 * `state` and `nonce`, built on `openid-client` (discovery, code exchange, and ID token signature,
 * `iss`, `aud`, `exp`, `iat` and `nonce` checks against the provider's JWKS). The ID token's
 * `email` (read from UserInfo when the ID token leaves it out) or `sub` is mapped to a configured
 * reviewer; nothing else about the provider's user is trusted. Discovery happens on first use and is retried after a failure, so a provider that is
 * briefly down does not stop the server.
 *
 * @example
 * const signIn = createOidcSignIn({ issuer: 'https://login.example.com', clientId: 'signoff' }, { publicUrl, reviewers, now });
 * const { url, transaction } = await signIn.start('/inbox', new Date());
 */
export function createOidcSignIn(options: OidcSignInOptions, environment: { readonly publicUrl: string; readonly reviewers: readonly Reviewer[]; readonly now: () => Date }): OidcSignIn {
  const redirectPath = options.redirectPath ?? '/inbox/oidc/callback';
  const redirectUri = new URL(redirectPath, environment.publicUrl).href;
  const scope = [...new Set(['openid', ...(options.scopes ?? ['openid', 'email'])])].join(' ');
  const mapBy = options.mapBy ?? 'email';
  const explicit = new Map(Object.entries(options.reviewers ?? {}).map(([value, reviewerId]) => [mapBy === 'email' ? value.toLowerCase() : value, reviewerId]));
  const byEmail = new Map(environment.reviewers.flatMap((reviewer) => (reviewer.email ? [[reviewer.email.toLowerCase(), reviewer.id] as const] : [])));
  const reviewerOf = (subject: string): string | undefined => explicit.get(subject) ?? (mapBy === 'email' ? byEmail.get(subject) : undefined);

  let configuration: Promise<Oidc.Configuration> | undefined;
  const discover = (): Promise<Oidc.Configuration> => {
    configuration ??= (async () => {
      const oidc = await loadOidc();
      const issuer = new URL(options.issuer);
      const insecure = LOOPBACK.test(issuer.href);
      const config = await oidc.discovery(
        issuer,
        options.clientId,
        // Our clock, not the process's, judges exp/iat: the same clock the inbox's sessions use.
        { [oidc.clockSkew]: Math.round((environment.now().getTime() - Date.now()) / 1000) },
        options.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(options.clientSecret),
        { execute: insecure ? [oidc.allowInsecureRequests] : [] },
      );
      // Verify the ID token's signature against the provider's JWKS too, not only trust the TLS channel it came over.
      oidc.enableNonRepudiationChecks(config);
      return config;
    })();
    configuration.catch(() => {
      configuration = undefined;
    });
    return configuration;
  };

  return {
    redirectPath,
    label: options.label ?? 'Sign in with single sign-on',
    reviewerOf,
    async start(next, now) {
      const oidc = await loadOidc();
      const config = await discover();
      const transaction: OidcTransaction = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier: oidc.randomPKCECodeVerifier(),
        next,
        exp: Math.floor(now.getTime() / 1000) + TRANSACTION_SECONDS,
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope,
        state: transaction.state,
        nonce: transaction.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(transaction.verifier),
        code_challenge_method: 'S256',
      });
      return { url, transaction };
    },
    async finish(callbackUrl, transaction, now) {
      const oidc = await loadOidc();
      const providerError = callbackUrl.searchParams.get('error');
      if (providerError) {
        const description = callbackUrl.searchParams.get('error_description');
        return { ok: false, reason: `the identity provider refused the sign-in (${providerError}${description ? `: ${description.slice(0, 200)}` : ''})`, detail: { reason: 'provider error', error: providerError.slice(0, 100) } };
      }
      if (transaction.exp * 1000 <= now.getTime()) return { ok: false, reason: 'the sign-in took too long; start again', detail: { reason: 'sign-in expired' } };
      if (callbackUrl.searchParams.get('state') !== transaction.state) {
        return { ok: false, reason: 'this sign-in response does not belong to the sign-in this browser started (state mismatch)', detail: { reason: 'state mismatch' } };
      }
      const config = await discover();
      let tokens: Awaited<ReturnType<typeof Oidc.authorizationCodeGrant>>;
      try {
        // The callback URL as the provider was told it (behind a proxy the request URL may differ).
        const current = new URL(redirectUri);
        current.search = callbackUrl.search;
        tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: transaction.verifier,
          expectedState: transaction.state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        return { ok: false, ...describeFailure(error, oidc) };
      }
      const claims = tokens.claims();
      const idToken = tokens.id_token;
      if (!claims || !idToken) return { ok: false, reason: 'the identity provider sent no ID token', detail: { reason: 'no ID token' } };
      let subject: string;
      if (mapBy === 'sub') {
        subject = claims.sub;
      } else {
        let email = { email: claims.email, email_verified: claims.email_verified };
        // Providers may put scope claims only in the UserInfo response (OIDC Core 5.4); it must be about the same `sub`.
        if (typeof email.email !== 'string' && tokens.access_token) {
          try {
            const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
            email = { email: userInfo.email, email_verified: userInfo.email_verified };
          } catch (error) {
            return { ok: false, ...describeFailure(error, oidc) };
          }
        }
        const { email: address, email_verified: verified } = email;
        if (typeof address !== 'string' || address === '') {
          return { ok: false, reason: 'the identity provider sent no email for you (ask your admin to add the email scope)', detail: { reason: 'no email claim', sub: claims.sub } };
        }
        if (verified !== true && !options.allowUnverifiedEmail) {
          return { ok: false, reason: `the identity provider has not verified the email ${address}`, detail: { reason: 'email not verified', sub: claims.sub, email: address } };
        }
        subject = address.toLowerCase();
      }
      const reviewerId = reviewerOf(subject);
      if (!reviewerId) {
        return { ok: false, reason: `${subject} is not a reviewer on this server; ask your Signoff admin to add you`, detail: { reason: 'unmapped subject', [mapBy]: subject, sub: claims.sub } };
      }
      return { ok: true, reviewerId, subject, idToken };
    },
    async endSessionUrl(input) {
      const oidc = await loadOidc();
      const config = await discover().catch(() => undefined);
      if (!config?.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: input.postLogoutRedirectUri,
        client_id: options.clientId,
        ...(input.idTokenHint ? { id_token_hint: input.idTokenHint } : {}),
      });
    },
  };
}

/** What went wrong in the code exchange or the ID token checks, for the refusal page and the audit. */
function describeFailure(error: unknown, oidc: typeof Oidc): { reason: string; detail: Record<string, unknown> } {
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: unknown }).cause;
  const why = cause instanceof Error && cause.message !== (error as Error).message ? `${(error as Error).message}: ${cause.message}` : String((error as Error).message ?? error);
  const detail = { reason: 'ID token or code exchange refused', code: typeof code === 'string' ? code : undefined, error: why.slice(0, 300) };
  if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return { reason: `the identity provider's ID token is expired or not yet valid (${why})`, detail };
  if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') return { reason: `the identity provider's ID token is not for this sign-in (${why})`, detail };
  if (error instanceof oidc.ResponseBodyError) return { reason: `the identity provider refused the code (${error.error}${error.error_description ? `: ${error.error_description}` : ''})`, detail: { ...detail, error: error.error } };
  return { reason: `the sign-in could not be completed (${why})`, detail };
}
