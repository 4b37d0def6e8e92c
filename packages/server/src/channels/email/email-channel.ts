import { SignoffError, type ApprovalRequest, type Policy } from '@signoff/core';
import { limitBody } from '../../http/limit-body.js';
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Transporter } from 'nodemailer';
import type { ApprovalService } from '../../approval-service.js';
import type { AuditEventInput } from '../../audit/audit-event.js';
import type { RefusalCode } from '../../engine/apply-decision.js';
import { canApprove } from '../../engine/quorum.js';
import type { Reviewer } from '../../engine/reviewer.js';
import type { NoticeOutboxMessage, RequestOutboxMessage } from '../../store/outbox-message.js';
import type { Store } from '../../store/store.js';
import { composeDigestEmail } from './compose-digest-email.js';
import { ARGS_NOT_SHOWN, argsNotShown } from '../args-not-shown.js';
import type { Channel } from '../channel.js';
import { createTestedPathsLookup } from '../create-tested-paths-lookup.js';
import { revealHiddenCharacters } from '../reveal-hidden-characters.js';
import { reviewElsewhere } from '../review-elsewhere.js';
import { composeApprovalEmail, emailShowsArgsWhole } from './compose-approval-email.js';
import { confirmPageShowsArgsWhole, EMAIL_PAGE_HEADERS, renderConfirmPage, renderResultPage } from './email-pages.js';
import { MIN_LINK_SECRET_BYTES, signEmailToken, verifyEmailToken, type EmailTokenClaims } from './email-token.js';
import type { SafeHtml } from './safe-html.js';

export interface EmailChannelOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. */
  readonly smtpUrl: string;
  /** The sender, e.g. `Signoff <signoff@example.com>`. */
  readonly from: string;
  /** HMAC key of the link tokens, at least 32 bytes. Rotating it voids every link already sent. */
  readonly linkSecret: string;
  /** Where reviewers reach this server (links are `<publicUrl>/email/decide?token=…`). */
  readonly publicUrl: string;
  /** How long links work; default (and never beyond) the request's deadline. */
  readonly linkTtlMs?: number;
  /** The configured reviewers; those with an `email` are mailed when eligible (one digest per window for those with `emailDigestMs`). */
  readonly reviewers: readonly Reviewer[];
  /** Reviewers who own each agent principal: they cannot approve its requests, so they get no mail. */
  readonly ownersOf?: (agent: string) => readonly string[];
  /** The server's policy: the args its deciding rule tested are shown first. */
  readonly policy?: Policy;
  /** The server's public URL when it serves the inbox: args too long for a mail link to the request's inbox page. */
  readonly inboxBaseUrl?: string;
  readonly now?: () => Date;
}

const PATH = '/email/decide';
/** A digest lists at most this many requests (the rest are counted, and waiting in the inbox). */
const DIGEST_ITEMS = 25;
/** Pending requests read when composing a digest. */
const DIGEST_SCAN = 1_000;
const APPROVAL_ID = /^apr_[\w-]{10,40}$/;
const REFUSAL_PAGES: Record<RefusalCode, { status: ContentfulStatusCode; title: string }> = {
  ALREADY_RESOLVED: { status: 409, title: 'Already decided' },
  DUPLICATE_DECISION: { status: 409, title: 'This link was already used' },
  ARGS_CHANGED: { status: 409, title: 'The args changed' },
  EXPIRED: { status: 410, title: 'This request has expired' },
  SELF_APPROVAL: { status: 403, title: 'You cannot approve this request' },
  NOT_AN_APPROVER: { status: 403, title: 'You cannot approve this request' },
  EDIT_REFUSED: { status: 422, title: 'Edit refused' },
};

/** A link that checked out: who may do what to which request. */
type ResolvedLink =
  | { readonly ok: true; readonly claims: EmailTokenClaims; readonly request: ApprovalRequest; readonly reviewer: Reviewer }
  | { readonly ok: false; readonly status: ContentfulStatusCode; readonly title: string; readonly message: string; readonly audit: AuditEventInput };

/**
 * Email approvals over SMTP (`nodemailer`): each eligible reviewer with an address gets a mail with
 * Approve and Deny links carrying a signed token bound to (request, reviewer, verdict, expiry).
 * `GET /email/decide` only shows the request and one button — mail scanners prefetch links — and
 * `POST /email/decide` decides through the approval service, like every other channel.
 *
 * @example
 * const email = createEmailChannel({ smtpUrl: process.env.SMTP_URL!, from: 'Signoff <signoff@example.com>', linkSecret, publicUrl: 'https://signoff.example.com', reviewers });
 */
export function createEmailChannel(options: EmailChannelOptions): Channel {
  const { linkSecret, from } = options;
  if (Buffer.byteLength(linkSecret, 'utf8') < MIN_LINK_SECRET_BYTES) throw new SignoffError('CONFIG_INVALID', `email.link_secret must be at least ${MIN_LINK_SECRET_BYTES} bytes`);
  const base = new URL(options.publicUrl.endsWith('/') ? options.publicUrl : `${options.publicUrl}/`);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new SignoffError('CONFIG_INVALID', 'public_url must be an http(s) URL for email links');
  const now = options.now ?? (() => new Date());
  const ownersOf = options.ownersOf ?? (() => []);
  const testedPathsOf = createTestedPathsLookup(options.policy);
  const view = (request: ApprovalRequest) => ({ testedPaths: testedPathsOf(request.ruleId), ...(options.inboxBaseUrl ? { inboxBaseUrl: options.inboxBaseUrl } : {}) });
  // Loaded on first mail: nodemailer costs a server that sends none nothing.
  let loadedTransport: Promise<Transporter> | undefined;
  const transport = (): Promise<Transporter> =>
    (loadedTransport ??= import('nodemailer').then(({ createTransport }) => createTransport({ url: options.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 })));

  /** Who gets mail: reviewers with an address, holding a needed role, who did not ask for the call. */
  const mailable = (request: ApprovalRequest): Reviewer[] => {
    const requesters = [request.requester, request.onBehalfOf, ...ownersOf(request.requester)];
    return options.reviewers.filter((reviewer) => reviewer.email && canApprove(reviewer, request) && !requesters.includes(reviewer.id));
  };
  /** Reviewers mailed one message per request (the others take a digest). */
  const mailedEach = (request: ApprovalRequest): Reviewer[] => mailable(request).filter((reviewer) => reviewer.emailDigestMs === undefined);
  /** Signed links for one reviewer and request, or nothing when no link could outlive now. */
  const linksFor = (request: ApprovalRequest, reviewer: Reviewer, at: Date) => {
    const expiresAt = Math.min(Date.parse(request.expiresAt), options.linkTtlMs === undefined ? Infinity : at.getTime() + options.linkTtlMs);
    // Rounded down: a link never outlives the request's deadline.
    const claims = { approvalId: request.id, reviewerId: reviewer.id, exp: Math.floor(expiresAt / 1000) };
    if (claims.exp * 1000 <= at.getTime()) return undefined;
    return {
      // No approve token at all for args the mail cannot show whole: there is nothing to forward or replay.
      ...(emailShowsArgsWhole(request.approvedArgs) ? { approveUrl: linkTo(signEmailToken({ ...claims, verdict: 'approve' }, linkSecret)) } : {}),
      denyUrl: linkTo(signEmailToken({ ...claims, verdict: 'deny' }, linkSecret)),
      linksExpireAt: new Date(expiresAt),
    };
  };
  /** Whether a request waits for this reviewer now: pending, not overdue, theirs to decide, and not decided by them yet. */
  const waitsFor = (request: ApprovalRequest, reviewer: Reviewer, at: Date) =>
    request.status === 'pending' &&
    Date.parse(request.expiresAt) > at.getTime() &&
    mailable(request).some((candidate) => candidate.id === reviewer.id) &&
    !request.decisions.some((decision) => decision.reviewer === reviewer.id);
  const linkTo = (token: string): string => {
    const url = new URL(PATH.slice(1), base);
    url.searchParams.set('token', token);
    return url.toString();
  };

  return {
    name: 'email',
    targets(topic, request) {
      if (topic !== 'approval.created' || request.status !== 'pending') return [];
      const addresses = new Map(mailedEach(request).map((reviewer) => [(reviewer.email as string).toLowerCase(), reviewer.email as string]));
      return [...addresses.values()];
    },
    digestTargets(request, at) {
      // Windows are aligned to the clock: every request of one window joins the same queued digest,
      // and a request arriving while that digest is being sent starts the next window's.
      return mailable(request).flatMap((reviewer) =>
        reviewer.emailDigestMs === undefined
          ? []
          : [{ target: reviewer.email as string, reviewerId: reviewer.id, dueAt: new Date((Math.floor(at.getTime() / reviewer.emailDigestMs) + 1) * reviewer.emailDigestMs) }],
      );
    },
    async deliverNotice(message: NoticeOutboxMessage, store: Pick<Store, 'listRequests'>) {
      if (message.topic !== 'email.digest') throw Object.assign(new Error(`email does not deliver ${message.topic}`), { permanent: true });
      const reviewer = options.reviewers.find((candidate) => candidate.id === message.notice.reviewerId && candidate.email?.toLowerCase() === message.target.toLowerCase());
      if (!reviewer) return; // no longer a reviewer at that address: nothing to send
      const at = now();
      // What waits at sending time, oldest first: decided or expired requests are left out, new ones are in.
      const waiting = (await store.listRequests({ status: 'pending', limit: DIGEST_SCAN })).filter((request) => waitsFor(request, reviewer, at)).reverse();
      const items = waiting.slice(0, DIGEST_ITEMS).flatMap((request) => {
        const links = linksFor(request, reviewer, at);
        return links ? [{ request, ...links, testedPaths: testedPathsOf(request.ruleId) }] : [];
      });
      if (items.length === 0) return;
      const email = composeDigestEmail({ reviewer, items, more: waiting.length - items.length, now: at, ...(options.inboxBaseUrl ? { inboxBaseUrl: options.inboxBaseUrl } : {}) });
      await (await transport()).sendMail({
        from,
        to: { name: reviewer.name, address: message.target },
        ...email,
        // The same Message-ID on every retry of this digest, so a mailbox can drop a duplicate.
        messageId: `<${message.id}@${base.hostname}>`,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Signoff-Digest': items.map((item) => item.request.id).join(' ') },
      });
    },
    async deliver(message: RequestOutboxMessage, request: ApprovalRequest) {
      const at = now();
      // Retries can come late: don't ask for a decision that can no longer be made.
      if (message.topic !== 'approval.created' || request.status !== 'pending' || Date.parse(request.expiresAt) <= at.getTime()) return;
      const reviewer = mailedEach(request).find((candidate) => candidate.email?.toLowerCase() === message.target.toLowerCase());
      if (!reviewer || request.decisions.some((decision) => decision.reviewer === reviewer.id)) return;
      const links = linksFor(request, reviewer, at);
      if (!links) return;
      const email = composeApprovalEmail({ request, reviewer, ...view(request), ...links, now: at });
      await (await transport()).sendMail({
        from,
        to: { name: reviewer.name, address: message.target },
        ...email,
        // The same Message-ID on every retry of this delivery, so a mailbox can drop a duplicate.
        messageId: `<${message.id}@${base.hostname}>`,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Signoff-Approval': request.id },
      });
    },
    routes(app: Hono, service: ApprovalService) {
      const page = (context: Context, status: ContentfulStatusCode, body: SafeHtml) => context.body(body.value, status, EMAIL_PAGE_HEADERS);
      const result = (context: Context, status: ContentfulStatusCode, input: Omit<Parameters<typeof renderResultPage>[0], 'now'>) =>
        page(context, status, renderResultPage({ ...input, ...(input.request ? view(input.request) : {}), now: now() }));

      /** The page for a link to a request that is no longer pending. */
      const closed = (request: ApprovalRequest): [ContentfulStatusCode, Omit<Parameters<typeof renderResultPage>[0], 'now'>] =>
        request.status === 'expired'
          ? [410, { title: 'This request has expired', message: `Its deadline passed: ${request.resolution}. Nothing was changed.`, tone: 'bad', request }]
          : [409, { title: 'Already decided', message: `This request is already ${request.status}: ${request.resolution}.`, tone: 'info', request }];

      async function resolveLink(token: string): Promise<ResolvedLink> {
        const check = verifyEmailToken(token, linkSecret, now());
        if (!check.ok && check.problem === 'invalid') {
          return {
            ok: false,
            status: 400,
            title: 'This link is not valid',
            message: 'The link was altered, cut short, or not issued by this server. Open it again from the email, copying the whole address.',
            audit: { type: 'access.refused', actor: 'unknown', channel: 'email', detail: { reason: 'invalid or altered email link token', path: PATH } },
          };
        }
        const { claims } = check;
        const refused = (reason: string) =>
          ({ type: 'access.refused', requestId: claims.approvalId, actor: claims.reviewerId, channel: 'email', detail: { reason, verdict: claims.verdict, path: PATH } }) as const;
        if (!check.ok) {
          const at = new Date(claims.exp * 1000).toISOString();
          return { ok: false, status: 410, title: 'This link has expired', message: `It stopped working at ${at}. Nothing was decided.`, audit: refused('expired email link') };
        }
        const request = APPROVAL_ID.test(claims.approvalId) ? await service.get(claims.approvalId) : undefined;
        if (!request) {
          return { ok: false, status: 404, title: 'No such request', message: 'This server has no approval request for this link.', audit: refused('email link for an unknown request') };
        }
        const reviewer = service.reviewerById(claims.reviewerId);
        if (!reviewer) {
          return { ok: false, status: 403, title: 'Unknown reviewer', message: `${claims.reviewerId} is no longer a reviewer on this server.`, audit: refused('email link for an unknown reviewer') };
        }
        return { ok: true, claims, request, reviewer };
      }

      app.use(PATH, limitBody(16 * 1024, (context) => result(context, 413, { title: 'Too large', message: 'The form was too large.', tone: 'bad' })));

      // GET shows, never decides: scanners and link previews fetch it without anyone clicking.
      app.get(PATH, async (context) => {
        const link = await resolveLink(context.req.query('token') ?? '');
        if (!link.ok) return result(context, link.status, { title: link.title, message: link.message, tone: 'bad' });
        const { request, reviewer, claims } = link;
        if (request.status !== 'pending') return result(context, ...closed(request));
        if (request.decisions.some((decision) => decision.reviewer === reviewer.id)) {
          return result(context, 409, { title: 'This link was already used', message: 'You already decided this request.', tone: 'info', request });
        }
        return page(context, 200, renderConfirmPage({ request, reviewer, verdict: claims.verdict, token: context.req.query('token') as string, now: now(), ...view(request) }));
      });

      app.post(PATH, async (context) => {
        const form = await context.req.parseBody();
        const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
        const link = await resolveLink(field('token'));
        if (!link.ok) {
          await service.recordRefusal(link.audit);
          return result(context, link.status, { title: link.title, message: link.message, tone: 'bad' });
        }
        const { request, reviewer, claims } = link;
        const verdict = claims.verdict;
        // The engine counts a reviewer once per args; a link goes further and works once, full stop.
        const earlier = request.status === 'pending' ? request.decisions.find((decision) => decision.reviewer === reviewer.id) : undefined;
        if (earlier) {
          const message = `You already decided this request (${earlier.verdict}, ${earlier.at}); each link works once.`;
          await service.recordRefusal({ type: 'decision.refused', requestId: request.id, actor: reviewer.id, channel: 'email', detail: { verdict, code: 'DUPLICATE_DECISION', reason: message } });
          return result(context, 409, { title: 'This link was already used', message, tone: 'bad', request });
        }
        // No confirm page could have shown these args whole with an Approve button: a crafted post.
        const notShown = argsNotShown(request, { verdict, argsHash: field('argsHash'), showsWhole: confirmPageShowsArgsWhole, where: 'the email confirm page' });
        if (notShown) {
          await service.recordRefusal({ type: 'decision.refused', requestId: request.id, actor: reviewer.id, channel: 'email', detail: { verdict, code: ARGS_NOT_SHOWN, reason: notShown } });
          const elsewhere = reviewElsewhere(request.id, options.inboxBaseUrl);
          return result(context, 403, {
            title: 'Review it in the inbox',
            message: `Not approved: ${notShown}. Nothing was changed.`,
            tone: 'bad',
            request,
            ...(elsewhere.url ? { link: { href: elsewhere.url, text: 'Review it in the inbox' } } : {}),
          });
        }
        const comment = field('comment').trim().slice(0, 1000);
        // The page showed these args; the engine checks them in the decision's own transaction.
        const outcome = await service.decide(request.id, { reviewer, verdict, channel: 'email', argsHash: field('argsHash'), ...(comment ? { comment } : {}) });
        if (!outcome) return result(context, 404, { title: 'No such request', message: 'This server has no approval request for this link.', tone: 'bad' });
        if (outcome.kind === 'refused') {
          if (outcome.code === 'ALREADY_RESOLVED') return result(context, ...closed(outcome.request));
          const { status, title } = REFUSAL_PAGES[outcome.code];
          return result(context, status, { title, message: `${outcome.reason}. Nothing was changed.`, tone: 'bad', request: outcome.request });
        }
        const decided = outcome.request;
        if (decided.status === 'approved') {
          return result(context, 200, { title: 'Approved', message: `Your approval was recorded. The request is approved: ${decided.resolution}.`, tone: 'good', request: decided });
        }
        if (decided.status === 'denied') {
          return result(context, 200, { title: 'Denied', message: `Your denial was recorded. The request is denied; ${revealHiddenCharacters(decided.tool)} will not run.`, tone: 'good', request: decided });
        }
        return result(context, 200, { title: 'Approval recorded', message: `Your approval was recorded. ${decided.resolution}.`, tone: 'info', request: decided });
      });
    },
  };
}
