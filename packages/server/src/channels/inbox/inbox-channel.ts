import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { limitBody } from '../../http/limit-body.js';
import { hashArgs, SignoffError, type ApprovalRequest, type Policy } from '@signoff/core';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApprovalService } from '../../approval-service.js';
import type { ApiKey } from '../../config/server-config.js';
import type { RefusalCode } from '../../engine/apply-decision.js';
import type { Reviewer } from '../../engine/reviewer.js';
import type { Channel } from '../channel.js';
import { createTestedPathsLookup } from '../create-tested-paths-lookup.js';
import type { SafeHtml } from '../email/safe-html.js';
import { INBOX_PAGE_HEADERS, type InboxViewer } from './inbox-layout.js';
import { renderHistoryPage, renderLoginPage, renderMessagePage, renderPendingPage, type ListPageInput } from './inbox-pages.js';
import { INBOX_LIVE_SCRIPT } from './inbox-live-script.js';
import { createInboxSessions, type InboxSession } from './inbox-sessions.js';
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
  readonly now?: () => Date;
}

const SESSION_COOKIE = 'signoff_session';
const LOGIN_COOKIE = 'signoff_login';
const LOGIN_NONCE = /^[A-Za-z0-9_-]{24}$/;
const APPROVAL_ID = /^apr_[\w-]{10,40}$/;
/** Where a sign-in may return to: inbox pages only, never another site. */
const NEXT = /^\/inbox(\/history|\/requests\/apr_[\w-]{10,40})?$/;
const REFUSAL_STATUS: Record<RefusalCode, ContentfulStatusCode> = {
  ALREADY_RESOLVED: 409,
  EXPIRED: 409,
  DUPLICATE_DECISION: 409,
  ARGS_CHANGED: 409,
  SELF_APPROVAL: 403,
  NOT_AN_APPROVER: 403,
  EDIT_REFUSED: 422,
};
/** An open event stream says something this often, so proxies keep it and a sign-out elsewhere is noticed. */
const LIVE_HEARTBEAT_MS = 15_000;
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
  const cookie = { path: '/inbox', httpOnly: true, sameSite: 'Lax', secure } as const;
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
        const keyKept = reviewerKeys.some((key) => key.reviewer === session.reviewerId && key.keySha256.startsWith(session.keyPrefix));
        const reviewer = keyKept ? service.reviewerById(session.reviewerId) : undefined;
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
        for (const [name, value] of Object.entries(INBOX_PAGE_HEADERS)) context.res.headers.set(name, value);
      });
      app.use('/inbox/*', limitBody(512 * 1024, (context) => page(context, 413, renderMessagePage({ title: 'Too large', message: 'The form was too large; nothing was done.', tone: 'bad' }))));

      app.get('/inbox/login', async (context) => {
        const next = NEXT.test(context.req.query('next') ?? '') ? (context.req.query('next') as string) : '/inbox';
        if (await signedIn(context)) return context.redirect(next, 303);
        // Reuse the nonce of an earlier visit, so two open sign-in tabs both work.
        const existing = getCookie(context, LOGIN_COOKIE);
        const nonce = existing && LOGIN_NONCE.test(existing) ? existing : randomBytes(18).toString('base64url');
        setCookie(context, LOGIN_COOKIE, nonce, { ...cookie, maxAge: 3_600 });
        return page(context, 200, renderLoginPage({ csrf: sessions.csrfToken(nonce, '/inbox/login'), next, sessionHours: ttlMs / 3_600_000 }));
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
          return page(context, 401, renderLoginPage({ csrf: sessions.csrfToken(nonce, '/inbox/login'), next, sessionHours: ttlMs / 3_600_000, error: SIGN_IN_FAILED }));
        }
        const issued = sessions.issue({ reviewerId: reviewer.id, keyPrefix: key.keySha256.slice(0, 16) }, now());
        setCookie(context, SESSION_COOKIE, issued.cookie, { ...cookie, maxAge: Math.floor(ttlMs / 1000) });
        deleteCookie(context, LOGIN_COOKIE, cookie);
        return context.redirect(next, 303);
      });

      app.post('/inbox/logout', async (context) => {
        const current = await signedIn(context);
        if (current) {
          const form = await fields(context);
          const forged = await refuseForgery(context, { nonce: current.session.nonce, action: '/inbox/logout', token: form.get('csrf'), actor: current.reviewer.id, viewer: viewerOf(current) });
          if (forged) return forged;
          // End it on the server too: a copy of the cookie stops working now, not when it expires.
          await service.endSession(current.session.nonce, new Date(current.session.exp * 1000));
          for (const end of [...(liveStreams.get(current.session.nonce) ?? [])]) end();
        }
        deleteCookie(context, SESSION_COOKIE, cookie);
        return context.redirect('/inbox/login', 303);
      });

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
        const resolved = await Promise.all((['approved', 'executed', 'denied', 'expired'] as const).map((status) => service.list({ status, limit: 100 })));
        const requests = resolved
          .flat()
          .sort((a, b) => (b.resolvedAt ?? b.createdAt).localeCompare(a.resolvedAt ?? a.createdAt))
          .slice(0, 100);
        return page(context, 200, renderHistoryPage({ viewer: viewerOf(current), requests, now: now(), testedPathsOf }));
      });

      const notFound = (context: Context, viewer: InboxViewer, id: string) =>
        page(context, 404, renderMessagePage({ title: 'No such request', message: `This server has no approval request ${id}.`, tone: 'bad', viewer, link: { href: '/inbox', text: 'Back to the inbox' } }));
      const requestPage = (current: SignedIn, request: ApprovalRequest, extra: { banner?: { tone: 'good' | 'bad' | 'info'; message: string }; form?: DecisionFormValues } = {}) =>
        renderRequestPage({
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
        return page(context, 200, requestPage(current, request, banner ? { banner } : {}));
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
        const again = (status: ContentfulStatusCode, message: string, shown = request) =>
          page(context, status, requestPage(current, shown, { banner: { tone: 'bad', message }, ...(shown.approvedArgsHash === request.approvedArgsHash ? { form: values } : {}) }));

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
