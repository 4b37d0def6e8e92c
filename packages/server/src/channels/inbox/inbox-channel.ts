import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { limitBody } from '../../http/limit-body.js';
import { hashArgs, SignoffError, type ApprovalRequest, type Policy } from '@signoff/core';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApprovalService } from '../../approval-service.js';
import type { ApiKey } from '../../config/server-config.js';
import { REFUSAL_STATUS } from '../../engine/apply-decision.js';
import type { Reviewer } from '../../engine/reviewer.js';
import type { Channel } from '../channel.js';
import { createTestedPathsLookup } from '../create-tested-paths-lookup.js';
import type { SafeHtml } from '../email/safe-html.js';
import { INBOX_PAGE_HEADERS, type InboxViewer } from './inbox-layout.js';
import { renderHistoryPage, renderLoginPage, renderMessagePage, renderPendingPage, type ListPageInput } from './inbox-pages.js';
import { INBOX_LIVE_SCRIPT } from './inbox-live-script.js';
import { encodeListCursor, historyHref, parseHistoryQuery } from './history-query.js';
import { createInboxSessions, type InboxSession } from './inbox-sessions.js';
import { createOidcSignIn, type OidcOutcome, type OidcSignInOptions, type OidcTransaction } from './oidc-sign-in.js';
import { renderRequestPage, type DecisionFormValues } from './render-request-page.js';

export interface InboxChannelOptions {
  /** HMAC key of the session cookies and CSRF tokens, at least 32 bytes. Rotating it signs everyone out. */
  readonly sessionSecret: string;
  /** How long a sign-in lasts (default 12 h). */
  readonly sessionTtlMs?: number;
  /** Mark cookies `Secure` (default true): turn off only for plain-http loopback use. */
  readonly secureCookies?: boolean;
  /** The configured API keys: reviewers sign in with their reviewer key (compared by sha256). */
  readonly apiKeys: readonly ApiKey[];
  /** Where reviewers reach this server; its origin is accepted on form posts. */
  readonly publicUrl?: string;
  /** The server's policy: the args its deciding rule tested are shown first. */
  readonly policy?: Policy;
  /** The configured reviewers, offered in the history page's "decided by" filter (and matched by email for OpenID Connect). */
  readonly reviewers?: readonly Reviewer[];
  /** Sign-in with an OpenID Connect provider, beside reviewer keys (needs `publicUrl`). */
  readonly oidc?: OidcSignInOptions;
  readonly now?: () => Date;
}

const SESSION_COOKIE = 'signoff_session';
const LOGIN_COOKIE = 'signoff_login';
/** A sign-in at the identity provider in progress: state, nonce, PKCE verifier (sealed). */
const OIDC_COOKIE = 'signoff_oidc';
/** The provider's ID token of an OIDC session, for its sign-out page (`id_token_hint`). */
const ID_TOKEN_COOKIE = 'signoff_idt';
const LOGIN_NONCE = /^[A-Za-z0-9_-]{24}$/;
const APPROVAL_ID = /^apr_[\w-]{10,40}$/;
/** Where a sign-in may return to: inbox pages only, never another site. */
const NEXT = /^\/inbox(\/history|\/requests\/apr_[\w-]{10,40})?$/;
/** An open event stream says something this often, so proxies keep it and a sign-out elsewhere is noticed. */
const LIVE_HEARTBEAT_MS = 15_000;
/** Requests per history page. */
const HISTORY_PAGE = 50;
const SIGN_IN_FAILED = 'Sign-in failed: that is not a reviewer key on this server.';

/**
 * The stable deep link to a request in the inbox, for adapters and other channels to show.
 * Signed-out reviewers are sent to sign in and then back to it.
 *
 * @example
 * inboxRequestUrl('https://signoff.example.com', request.id); // https://signoff.example.com/inbox/requests/apr_…
 */
export function inboxRequestUrl(baseUrl: string, requestId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/inbox/requests/${encodeURIComponent(requestId)}`;
}

/**
 * The web inbox (`/inbox`): server-rendered pages where a reviewer signs in with their reviewer
 * API key, lists what waits for them, reads a request and approves (optionally with edited args)
 * or denies it, and browses history. Sessions are HMAC-signed cookies; every form carries a CSRF
 * token bound to the session and the form's action. Decisions go through `service.decide` with
 * channel `inbox`, so the engine's rules apply unchanged. The inbox delivers nothing.
 *
 * @example
 * const inbox = createInboxChannel({ sessionSecret: process.env.SIGNOFF_INBOX_SECRET!, apiKeys: config.apiKeys });
 * createApp({ service, apiKeys: config.apiKeys, channels: [inbox] });
 */
export function createInboxChannel(options: InboxChannelOptions): Channel {
  const ttlMs = options.sessionTtlMs ?? 12 * 3_600_000;
  if (!(ttlMs > 0)) throw new SignoffError('CONFIG_INVALID', 'inbox.session_hours must be positive');
  const sessions = createInboxSessions(options.sessionSecret, ttlMs);
  const secure = options.secureCookies ?? true;
  const now = options.now ?? (() => new Date());
  const testedPathsOf = createTestedPathsLookup(options.policy);
  const publicOrigin = options.publicUrl === undefined ? undefined : new URL(options.publicUrl).origin;
  const reviewerKeys = options.apiKeys.filter((key) => key.kind === 'reviewer' && key.reviewer !== undefined);
  const agentNames = [...new Set(options.apiKeys.filter((key) => key.kind === 'agent').map((key) => key.name))];
  /** The policy's exact tool names (not globs): suggestions for the history page's tool filter. */
  const policyTools = [...new Set((options.policy?.rules ?? []).flatMap((rule) => rule.tools).filter((tool) => !/[*?{]/.test(tool)))].sort();
  const cookie = { path: '/inbox', httpOnly: true, sameSite: 'Lax', secure } as const;
  if (options.oidc && options.publicUrl === undefined) throw new SignoffError('CONFIG_INVALID', 'inbox.oidc needs public_url: the provider sends reviewers back to it');
  const oidcSignIn = options.oidc && options.publicUrl !== undefined ? createOidcSignIn(options.oidc, { publicUrl: options.publicUrl, reviewers: options.reviewers ?? [], now }) : undefined;
  const issuerOrigin = options.oidc ? new URL(options.oidc.issuer).origin : undefined;
  // Sign-out posts a form that redirects to the provider's sign-out page: `form-action` must allow its origin.
  const pageHeaders: Readonly<Record<string, string>> = issuerOrigin
    ? { ...INBOX_PAGE_HEADERS, 'content-security-policy': (INBOX_PAGE_HEADERS['content-security-policy'] as string).replace("form-action 'self'", `form-action 'self' ${issuerOrigin}`) }
    : INBOX_PAGE_HEADERS;
  /** Open event streams by session nonce: signing out ends them at once. */
  const liveStreams = new Map<string, Set<() => void>>();

  return {
    name: 'inbox',
    targets: () => [],
    async deliver() {},
    routes(app: Hono, service: ApprovalService) {
      const page = (context: Context, status: ContentfulStatusCode, body: SafeHtml) =>
        context.body(body.value, status, { 'content-type': 'text/html; charset=utf-8' });
      const toLogin = (context: Context, next: string) => context.redirect(next === '/inbox' ? '/inbox/login' : `/inbox/login?next=${encodeURIComponent(next)}`, 303);
      const viewerOf = (signedIn: SignedIn): InboxViewer => ({ reviewer: signedIn.reviewer, logoutToken: sessions.csrfToken(signedIn.session.nonce, '/inbox/logout') });

      type SignedIn = { readonly session: InboxSession; readonly reviewer: Reviewer };
      /**
       * The session's reviewer, while the session is valid, was not signed out (on any replica: a
       * copied cookie dies with its sign-out), and the key it signed in with is still configured.
       */
      const signedIn = async (context: Context): Promise<SignedIn | undefined> => {
        const session = sessions.verify(getCookie(context, SESSION_COOKIE), now());
        if (!session) return undefined;
        const bindingKept = session.oidcSubject !== undefined
          ? oidcSignIn?.reviewerOf(session.oidcSubject) === session.reviewerId
          : reviewerKeys.some((key) => key.reviewer === session.reviewerId && key.keySha256.startsWith(session.keyPrefix));
        const reviewer = bindingKept ? service.reviewerById(session.reviewerId) : undefined;
        if (!reviewer || (await service.sessionEnded(session.nonce))) return undefined;
        return { session, reviewer };
      };

      /** Browsers say where a form came from; a post from another site is refused whatever its token. */
      const sameSite = (context: Context): boolean => {
        const site = context.req.header('sec-fetch-site');
        if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
        const origin = context.req.header('origin');
        if (origin === undefined || origin === publicOrigin) return true;
        try {
          // Behind a TLS-terminating proxy the request arrives as http: compare the host only.
          return new URL(origin).host === context.req.header('host');
        } catch {
          return false;
        }
      };

      /** Checks a form's CSRF token and origin; on failure, audits and returns the 403 page. */
      const refuseForgery = async (context: Context, input: { nonce: string; action: string; token: string; actor: string; requestId?: string; viewer?: InboxViewer }) => {
        const crossSite = !sameSite(context);
        if (!crossSite && sessions.checkCsrf(input.nonce, input.action, input.token)) return undefined;
        await service.recordRefusal({
          type: 'access.refused',
          actor: input.actor,
          channel: 'inbox',
          ...(input.requestId ? { requestId: input.requestId } : {}),
          detail: { reason: crossSite ? 'cross-site form post' : input.token ? 'invalid CSRF token' : 'missing CSRF token', path: input.action },
        });
        return page(
          context,
          403,
          renderMessagePage({
            title: 'Form refused',
            message: 'This form expired or did not come from this site, so nothing was done. Reload the page and try again.',
            tone: 'bad',
            ...(input.viewer ? { viewer: input.viewer } : {}),
            link: { href: input.action === '/inbox/login' ? '/inbox/login' : '/inbox', text: 'Back to the inbox' },
          }),
        );
      };

      const fields = async (context: Context) => {
        const form = await context.req.parseBody();
        return { has: (name: string) => typeof form[name] === 'string', get: (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '') };
      };

      app.use('/inbox/*', async (context, next) => {
        await next();
        for (const [name, value] of Object.entries(pageHeaders)) context.res.headers.set(name, value);
      });
      app.use('/inbox/*', limitBody(512 * 1024, (context) => page(context, 413, renderMessagePage({ title: 'Too large', message: 'The form was too large; nothing was done.', tone: 'bad' }))));

      app.get('/inbox/login', async (context) => {
        const next = NEXT.test(context.req.query('next') ?? '') ? (context.req.query('next') as string) : '/inbox';
        if (await signedIn(context)) return context.redirect(next, 303);
        // Reuse the nonce of an earlier visit, so two open sign-in tabs both work.
        const existing = getCookie(context, LOGIN_COOKIE);
        const nonce = existing && LOGIN_NONCE.test(existing) ? existing : randomBytes(18).toString('base64url');
        setCookie(context, LOGIN_COOKIE, nonce, { ...cookie, maxAge: 3_600 });
        return page(context, 200, renderLoginPage({ csrf: sessions.csrfToken(nonce, '/inbox/login'), next, sessionHours: ttlMs / 3_600_000, ...oidcButton(next) }));
      });

      app.post('/inbox/login', async (context) => {
        const form = await fields(context);
        const nonce = getCookie(context, LOGIN_COOKIE) ?? '';
        const forged = await refuseForgery(context, { nonce, action: '/inbox/login', token: form.get('csrf'), actor: 'unknown' });
        if (forged) return forged;
        const next = NEXT.test(form.get('next')) ? form.get('next') : '/inbox';
        const digest = Buffer.from(createHash('sha256').update(form.get('key'), 'utf8').digest('hex'), 'utf8');
        // Every configured key is compared, in constant time each, whatever matches.
        const matches = options.apiKeys.filter((key) => key.keySha256.length === 64 && timingSafeEqual(Buffer.from(key.keySha256, 'utf8'), digest));
        const key = matches.find((candidate) => candidate.kind === 'reviewer');
        const reviewer = key?.reviewer === undefined ? undefined : service.reviewerById(key.reviewer);
        if (!key || !reviewer) {
          const reason = form.get('key') === '' ? 'empty key' : matches.length ? 'an agent key tried to sign in' : 'unknown key';
          await service.recordRefusal({ type: 'access.refused', actor: 'unknown', channel: 'inbox', detail: { reason, path: '/inbox/login' } });
          return page(context, 401, renderLoginPage({ csrf: sessions.csrfToken(nonce, '/inbox/login'), next, sessionHours: ttlMs / 3_600_000, error: SIGN_IN_FAILED, ...oidcButton(next) }));
        }
        const issued = sessions.issue({ reviewerId: reviewer.id, keyPrefix: key.keySha256.slice(0, 16) }, now());
        setCookie(context, SESSION_COOKIE, issued.cookie, { ...cookie, maxAge: Math.floor(ttlMs / 1000) });
        deleteCookie(context, LOGIN_COOKIE, cookie);
        return context.redirect(next, 303);
      });

      if (oidcSignIn) {
        app.get('/inbox/oidc/start', async (context) => {
          const next = NEXT.test(context.req.query('next') ?? '') ? (context.req.query('next') as string) : '/inbox';
          let started: Awaited<ReturnType<typeof oidcSignIn.start>>;
          try {
            started = await oidcSignIn.start(next, now());
          } catch (error) {
            return page(context, 503, renderMessagePage({ title: 'Sign-in unavailable', message: `The identity provider could not be reached (${(error as Error).message}). Try again shortly, or sign in with your reviewer key.`, tone: 'bad', link: { href: '/inbox/login', text: 'Back to sign-in' } }));
          }
          setCookie(context, OIDC_COOKIE, sessions.seal(started.transaction), { ...cookie, maxAge: 600 });
          return context.redirect(started.url.href, 303);
        });

        app.get(oidcSignIn.redirectPath, async (context) => {
          const transaction = readTransaction(sessions.unseal(getCookie(context, OIDC_COOKIE)));
          deleteCookie(context, OIDC_COOKIE, cookie);
          const refuse = async (status: ContentfulStatusCode, reason: string, detail: Readonly<Record<string, unknown>>) => {
            await service.recordRefusal({ type: 'access.refused', actor: 'unknown', channel: 'inbox', detail: { ...detail, path: oidcSignIn.redirectPath } });
            return page(context, status, renderMessagePage({ title: 'Sign-in refused', message: `Sign-in refused: ${reason}. You are not signed in.`, tone: 'bad', link: { href: '/inbox/login', text: 'Back to sign-in' } }));
          };
          if (!transaction) return refuse(400, 'this browser has no sign-in in progress (it expired, was already used, or was started in another browser)', { reason: 'no sign-in in progress' });
          // Each started sign-in completes once, on any replica: a replayed response (with a copied cookie) is refused.
          const used = `oidc:${transaction.state}`;
          if (await service.sessionEnded(used)) return refuse(400, 'this sign-in response was already used', { reason: 'sign-in response replayed' });
          await service.endSession(used, new Date(transaction.exp * 1000));
          let outcome: OidcOutcome;
          try {
            outcome = await oidcSignIn.finish(new URL(context.req.url), transaction, now());
          } catch (error) {
            outcome = { ok: false, reason: `the identity provider could not be reached (${(error as Error).message})`, detail: { reason: 'provider unreachable' } };
          }
          if (!outcome.ok) return refuse(['unmapped subject', 'email not verified', 'no email claim'].includes(outcome.detail.reason as string) ? 403 : 400, outcome.reason, outcome.detail);
          const reviewer = service.reviewerById(outcome.reviewerId);
          if (!reviewer) return refuse(403, `${outcome.subject} maps to reviewer ${outcome.reviewerId}, who is not configured`, { reason: 'unmapped subject', subject: outcome.subject });
          const issued = sessions.issue({ reviewerId: reviewer.id, oidcSubject: outcome.subject }, now());
          setCookie(context, SESSION_COOKIE, issued.cookie, { ...cookie, maxAge: Math.floor(ttlMs / 1000) });
          // Kept only to tell the provider who signs out (its id_token_hint); it grants nothing here.
          setCookie(context, ID_TOKEN_COOKIE, outcome.idToken, { ...cookie, maxAge: Math.floor(ttlMs / 1000) });
          deleteCookie(context, LOGIN_COOKIE, cookie);
          return context.redirect(transaction.next, 303);
        });
      }

      app.post('/inbox/logout', async (context) => {
        const current = await signedIn(context);
        let providerSignOut: URL | undefined;
        if (current) {
          const form = await fields(context);
          const forged = await refuseForgery(context, { nonce: current.session.nonce, action: '/inbox/logout', token: form.get('csrf'), actor: current.reviewer.id, viewer: viewerOf(current) });
          if (forged) return forged;
          // End it on the server too: a copy of the cookie stops working now, not when it expires.
          await service.endSession(current.session.nonce, new Date(current.session.exp * 1000));
          for (const end of [...(liveStreams.get(current.session.nonce) ?? [])]) end();
          // Signed in through the provider: sign out there too (RP-initiated logout), when it offers that.
          if (current.session.oidcSubject !== undefined && oidcSignIn && options.publicUrl !== undefined) {
            const hint = getCookie(context, ID_TOKEN_COOKIE);
            providerSignOut = await oidcSignIn.endSessionUrl({ postLogoutRedirectUri: new URL('/inbox/login', options.publicUrl).href, ...(hint ? { idTokenHint: hint } : {}) });
          }
        }
        deleteCookie(context, SESSION_COOKIE, cookie);
        deleteCookie(context, ID_TOKEN_COOKIE, cookie);
        if (providerSignOut) {
          // The sign-out form may only redirect where the CSP's form-action allows (the issuer's origin); elsewhere, a link.
          if (providerSignOut.origin === issuerOrigin) return context.redirect(providerSignOut.href, 303);
          return page(context, 200, renderMessagePage({ title: 'Signed out', message: 'You are signed out of the Signoff inbox. Sign out of your identity provider too:', tone: 'good', link: { href: providerSignOut.href, text: 'Sign out of the identity provider' } }));
        }
        return context.redirect('/inbox/login', 303);
      });

      function oidcButton(next: string): { oidc?: { href: string; label: string } } {
        return oidcSignIn ? { oidc: { href: next === '/inbox' ? '/inbox/oidc/start' : `/inbox/oidc/start?next=${encodeURIComponent(next)}`, label: oidcSignIn.label } } : {};
      }

      const pending = async (context: Context) => {
        const current = await signedIn(context);
        if (!current) return toLogin(context, '/inbox');
        const listed = await pendingPage(service, current.reviewer, context.req.query('cursor'), context.req.query('back') === '1');
        return page(context, 200, renderPendingPage({ viewer: viewerOf(current), now: now(), testedPathsOf, ...listed }));
      };
      app.get('/inbox', pending);
      app.get('/inbox/', pending);

      app.get('/inbox/history', async (context) => {
        const current = await signedIn(context);
        if (!current) return toLogin(context, '/inbox/history');
        const parsed = parseHistoryQuery(context.req.query());
        const choices = { query: parsed.query, tools: policyTools, agents: agentNames, reviewers: options.reviewers ?? [] };
        if (!parsed.ok) {
          return page(context, 400, renderHistoryPage({ viewer: viewerOf(current), requests: [], now: now(), filters: { ...choices, error: `Nothing listed: ${parsed.message}.` } }));
        }
        // One more than a page tells whether an older page exists; the filters run in the store's query.
        const found = await service.list({ ...parsed.filter, limit: HISTORY_PAGE + 1 });
        const requests = found.slice(0, HISTORY_PAGE);
        const last = found.length > HISTORY_PAGE ? requests.at(-1) : undefined;
        return page(
          context,
          200,
          renderHistoryPage({
            viewer: viewerOf(current),
            requests,
            now: now(),
            testedPathsOf,
            filters: {
              ...choices,
              ...(last ? { olderHref: historyHref(parsed.query, encodeListCursor(last)) } : {}),
              ...(parsed.filter.before ? { newestHref: historyHref(parsed.query) } : {}),
            },
          }),
        );
      });

      const notFound = (context: Context, viewer: InboxViewer, id: string) =>
        page(context, 404, renderMessagePage({ title: 'No such request', message: `This server has no approval request ${id}.`, tone: 'bad', viewer, link: { href: '/inbox', text: 'Back to the inbox' } }));
      const requestPage = async (current: SignedIn, request: ApprovalRequest, extra: { banner?: { tone: 'good' | 'bad' | 'info'; message: string }; form?: DecisionFormValues } = {}) =>
        renderRequestPage({
          auditTrail: await service.auditTrail(request.id),
          viewer: viewerOf(current),
          request,
          now: now(),
          decideToken: sessions.csrfToken(current.session.nonce, `/inbox/requests/${request.id}/decide`),
          reviewerById: service.reviewerById,
          testedPaths: testedPathsOf(request.ruleId),
          ...extra,
        });

      app.get('/inbox/requests/:id', async (context) => {
        const id = context.req.param('id');
        const current = await signedIn(context);
        if (!current) return toLogin(context, APPROVAL_ID.test(id) ? `/inbox/requests/${id}` : '/inbox');
        const request = APPROVAL_ID.test(id) ? await service.get(id) : undefined;
        if (!request) return notFound(context, viewerOf(current), id);
        const recorded = context.req.query('recorded');
        // Only confirm what this reviewer really did: the query alone proves nothing.
        const mine = request.decisions.some((decision) => decision.reviewer === current.reviewer.id && decision.verdict === recorded);
        const banner = mine ? { tone: 'good' as const, message: recordedMessage(request, recorded as 'approve' | 'deny') } : undefined;
        return page(context, 200, await requestPage(current, request, banner ? { banner } : {}));
      });

      app.post('/inbox/requests/:id/decide', async (context) => {
        const id = context.req.param('id');
        const action = `/inbox/requests/${id}/decide`;
        const current = await signedIn(context);
        if (!current) {
          await service.recordRefusal({ type: 'access.refused', actor: 'unknown', channel: 'inbox', detail: { reason: 'no inbox session', path: action } });
          const next = APPROVAL_ID.test(id) ? `/inbox/requests/${id}` : '/inbox';
          return page(context, 401, renderMessagePage({ title: 'Signed out', message: 'Your session ended, so nothing was decided. Sign in and decide again.', tone: 'bad', link: { href: `/inbox/login?next=${encodeURIComponent(next)}`, text: 'Sign in' } }));
        }
        const form = await fields(context);
        const forged = await refuseForgery(context, { nonce: current.session.nonce, action, token: form.get('csrf'), actor: current.reviewer.id, viewer: viewerOf(current), ...(APPROVAL_ID.test(id) ? { requestId: id } : {}) });
        if (forged) return forged;
        const verdict = form.get('verdict');
        if (verdict !== 'approve' && verdict !== 'deny') {
          return page(context, 400, renderMessagePage({ title: 'Bad form', message: 'The form had no verdict; nothing was decided.', tone: 'bad', viewer: viewerOf(current) }));
        }
        const request = APPROVAL_ID.test(id) ? await service.get(id) : undefined;
        if (!request) return notFound(context, viewerOf(current), id);

        const comment = form.get('comment').trim().slice(0, 1_000);
        const values: DecisionFormValues = { verdict, comment, ...(verdict === 'approve' && form.has('args') ? { argsText: form.get('args') } : {}) };
        const again = async (status: ContentfulStatusCode, message: string, shown = request) =>
          page(context, status, await requestPage(current, shown, { banner: { tone: 'bad', message }, ...(shown.approvedArgsHash === request.approvedArgsHash ? { form: values } : {}) }));

        let editedArgs: unknown;
        if (values.argsText !== undefined) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(values.argsText);
          } catch (error) {
            return again(422, `The edited args are not valid JSON (${(error as Error).message}). Nothing was decided.`);
          }
          if (hashArgs(parsed) !== request.approvedArgsHash) editedArgs = parsed;
        }

        const outcome = await service.decide(id, {
          reviewer: current.reviewer,
          verdict,
          channel: 'inbox',
          // The decision is about the args the page showed; the engine checks it in the decision's own transaction.
          argsHash: form.get('argsHash'),
          ...(comment ? { comment } : {}),
          ...(editedArgs !== undefined ? { editedArgs } : {}),
        });
        if (!outcome) return notFound(context, viewerOf(current), id);
        if (outcome.kind === 'refused') return again(REFUSAL_STATUS[outcome.code], `Refused: ${outcome.reason}. Nothing was changed.`, outcome.request);
        // Post/redirect/get: reloading the result page never posts the decision again.
        return context.redirect(`/inbox/requests/${id}?recorded=${verdict}`, 303);
      });

      app.get('/inbox/live.js', (context) => context.body(INBOX_LIVE_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));

      /**
       * Server-sent events for open inbox pages: `change` with the id of each request that changed
       * (`*` when changes may have been missed), for the session's lifetime. Ids only: the page
       * re-reads itself with the session cookie, so a stream shows nothing the pages would not.
       * Ends with `bye` on sign-out (here at once, elsewhere by the next heartbeat) and on shutdown.
       */
      app.get('/inbox/events', async (context) => {
        const current = await signedIn(context);
        if (!current) return context.body('Signed out: sign in again.', 401, { 'content-type': 'text/plain; charset=utf-8' });
        const nonce = current.session.nonce;
        return streamSSE(context, async (stream) => {
          const changed = new Set<string>();
          let ended = false;
          let wake = () => {};
          const end = () => {
            ended = true;
            wake();
          };
          const stopWatching = service.watchChanges({
            change(id) {
              changed.add(id);
              wake();
            },
            shutdown: end,
          });
          const ends = liveStreams.get(nonce) ?? new Set();
          liveStreams.set(nonce, ends.add(end));
          stream.onAbort(end);
          try {
            await stream.writeSSE({ event: 'hello', data: 'live', retry: 3_000 });
            while (!ended) {
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, LIVE_HEARTBEAT_MS);
                wake = () => {
                  clearTimeout(timer);
                  resolve();
                };
                if (ended || changed.size) wake();
              });
              // Signed out on another replica, or the key was removed: stop telling this browser anything.
              if (ended || !(await signedIn(context))) break;
              const ids = [...changed];
              changed.clear();
              if (ids.length === 0) await stream.write(': still here\n\n');
              for (const id of ids) await stream.writeSSE({ event: 'change', data: id });
            }
            if (!stream.aborted) await stream.writeSSE({ event: 'bye', data: 'reload' });
          } finally {
            stopWatching();
            ends.delete(end);
            if (ends.size === 0 && liveStreams.get(nonce) === ends) liveStreams.delete(nonce);
          }
        });
      });

      app.all('/inbox/*', (context) => page(context, 404, renderMessagePage({ title: 'Not found', message: 'There is no such inbox page.', tone: 'bad', link: { href: '/inbox', text: 'Back to the inbox' } })));
    },
  };
}

function recordedMessage(request: ApprovalRequest, verdict: 'approve' | 'deny'): string {
  const yours = verdict === 'approve' ? 'Your approval was recorded.' : 'Your denial was recorded.';
  // The agent may already have used the approval by the time this page loads: still "approved" to the reviewer.
  if (request.status === 'approved' || request.status === 'executed') return `${yours} The request is approved: ${request.resolution}.`;
  if (request.status === 'denied') return `${yours} The request is denied; ${request.tool} will not run.`;
  if (request.status === 'pending') return `${yours} ${request.resolution}.`;
  return `${yours} The request is now ${request.status}: ${request.resolution}.`;
}

/** A sealed transaction read back from its cookie, if it has every field. */
function readTransaction(value: unknown): OidcTransaction | undefined {
  const transaction = value as Partial<Record<keyof OidcTransaction, unknown>> | undefined;
  if (typeof transaction !== 'object' || transaction === null) return undefined;
  const { state, nonce, verifier, next, exp } = transaction;
  if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string' || typeof next !== 'string' || !NEXT.test(next) || typeof exp !== 'number') return undefined;
  return { state, nonce, verifier, next, exp };
}

/** Requests per inbox page. */
const INBOX_PAGE = 50;

/**
 * One page of what a reviewer may act on, soonest deadline first, from a cursor (the deadline and id
 * of a row, as `?cursor=`; `back=1` for the page before it), with the links to the pages around it.
 * A cursor that is not ours reads as the first page.
 */
async function pendingPage(service: ApprovalService, reviewer: Reviewer, cursor: string | undefined, back: boolean): Promise<Pick<ListPageInput, 'requests' | 'total' | 'next' | 'previous'>> {
  const encode = (request: ApprovalRequest) => Buffer.from(JSON.stringify([request.expiresAt, request.id])).toString('base64url');
  const after = cursor === undefined ? undefined : decodeInboxCursor(cursor);
  const total = await service.countActionable(reviewer);
  // One more than a page tells whether there is another page in that direction.
  const rows = await service.list({ actionableBy: reviewer, order: 'deadline', limit: INBOX_PAGE + 1, ...(after ? { after, backward: back } : {}) });
  if (after && back) {
    // Back to (or past) the start: show the first page itself.
    if (rows.length <= INBOX_PAGE) return pendingPage(service, reviewer, undefined, false);
    const requests = rows.slice(-INBOX_PAGE);
    return { requests, total, previous: `/inbox?cursor=${encode(requests[0] as ApprovalRequest)}&back=1`, next: `/inbox?cursor=${encode(requests.at(-1) as ApprovalRequest)}` };
  }
  const requests = rows.slice(0, INBOX_PAGE);
  const last = requests.at(-1);
  return {
    requests,
    total,
    ...(after && requests[0] ? { previous: `/inbox?cursor=${encode(requests[0])}&back=1` } : {}),
    ...(rows.length > INBOX_PAGE && last ? { next: `/inbox?cursor=${encode(last)}` } : {}),
  };
}

function decodeInboxCursor(cursor: string): { expiresAt: string; id: string } | undefined {
  try {
    const [expiresAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    return typeof expiresAt === 'string' && !Number.isNaN(Date.parse(expiresAt)) && typeof id === 'string' && /^apr_[\w-]{10,40}$/.test(id) ? { expiresAt, id } : undefined;
  } catch {
    return undefined;
  }
}
