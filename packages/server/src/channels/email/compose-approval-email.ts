import { formatTime } from '../format-time.js';
import type { ApprovalRequest } from '@signoff/core';
import type { Reviewer } from '../../engine/reviewer.js';
import { formatArgsForReview } from '../format-args-for-review.js';
import { reviewElsewhere } from '../review-elsewhere.js';
import { decisionButtons, emailPage, requestFacts } from './email-parts.js';
import { html } from './safe-html.js';
import { summarizeRequest } from './summarize-request.js';

export interface ApprovalEmailInput {
  readonly request: ApprovalRequest;
  readonly reviewer: Reviewer;
  /**
   * GET links to the confirm pages (they decide nothing by themselves). Approve is offered only
   * when the email shows the args whole (see {@link emailShowsArgsWhole}): leave it out otherwise.
   */
  readonly approveUrl?: string;
  readonly denyUrl: string;
  /** The paths the deciding rule tested: those args are shown first. */
  readonly testedPaths?: readonly string[];
  /** The server's public URL when it serves the inbox: args too long for the email link to the request's inbox page. */
  readonly inboxBaseUrl?: string;
  /** When the links stop working (the request's deadline, or sooner with `link_ttl_minutes`). */
  readonly linksExpireAt: Date;
  readonly now: Date;
}

/** A composed message: both parts say the same thing. */
export interface ApprovalEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const MAX_ARGS_CHARS = 5_000;

/**
 * Whether the email shows these args whole (at most 5,000 characters as printed). Longer args are
 * cut, so the email offers no Approve link — only Deny, and where to read them whole.
 *
 * @example
 * const approveUrl = emailShowsArgsWhole(request.approvedArgs) ? linkTo(approveToken) : undefined;
 */
export function emailShowsArgsWhole(args: unknown): boolean {
  return formatArgsForReview(args, []).length <= MAX_ARGS_CHARS;
}

/**
 * The "Approval needed" email: subject, plain text and HTML (every agent-supplied value escaped,
 * hidden characters shown as escapes), the args with the fields the rule tested first, and
 * Approve and Deny links to confirm pages — or, when the args are too long to show whole, Deny
 * and a link to review them in the inbox instead of Approve.
 *
 * @example
 * const email = composeApprovalEmail({ request, reviewer, approveUrl, denyUrl, linksExpireAt, now: new Date() });
 * await transport.sendMail({ to: reviewer.email, ...email });
 */
export function composeApprovalEmail(input: ApprovalEmailInput): ApprovalEmail {
  const { reviewer, denyUrl } = input;
  const summary = summarizeRequest(input.request, { now: input.now, maxArgsChars: MAX_ARGS_CHARS, ...(input.testedPaths ? { testedPaths: input.testedPaths } : {}) });
  // Rendering decides, whatever the caller passed: no Approve next to args cut short.
  const approveUrl = summary.argsWhole ? input.approveUrl : undefined;
  const elsewhere = reviewElsewhere(input.request.id, input.inboxBaseUrl);
  const argsHeading = `Args${summary.testedNote ? ` (${summary.testedNote})` : ''}${summary.argsWhole ? '' : ` — too long to show whole here (the first ${MAX_ARGS_CHARS.toLocaleString('en')} characters)`}`;
  const linksExpire = formatTime(input.linksExpireAt.toISOString());
  const footer = approveUrl
    ? ['Each link opens a page that shows the request again; nothing is decided until you press the', `button there. The links are for you only, work once, and expire at ${linksExpire}.`]
    : ['The Deny link opens a page that shows the request again; nothing is decided until you press', `the button there. It is for you only, works once, and expires at ${linksExpire}.`];
  const subject = `Approval needed: ${summary.tool.replace(/\s+/g, ' ').slice(0, 150)}`;
  const facts = requestFacts(summary);

  const text = [
    `Hi ${reviewer.name},`,
    '',
    `${summary.requestedBy} wants to run ${summary.tool} and needs approval.`,
    '',
    ...facts.map(([label, value]) => `${label}: ${value}`),
    '',
    `${argsHeading}:`,
    summary.argsText,
    ...(summary.originalArgsText ? ['', 'A reviewer edited the args; the agent originally sent:', summary.originalArgsText] : []),
    '',
    ...(approveUrl
      ? [`Approve: ${approveUrl}`]
      : ['This email cannot show the whole args, so it cannot approve them.', elsewhere.url ? `Review in the inbox: ${elsewhere.url}` : elsewhere.text]),
    `Deny:    ${denyUrl}`,
    '',
    ...footer,
    '',
  ].join('\n');

  const body = emailPage(subject, reviewer.name, html`<p><strong>${summary.requestedBy}</strong> wants to run <code>${summary.tool}</code> and needs approval.</p>
<table style="border-collapse:collapse;margin:12px 0">
${facts.map(([label, value]) => html`<tr><th style="text-align:left;vertical-align:top;padding:4px 12px 4px 0;white-space:nowrap">${label}</th><td style="padding:4px 0">${value}</td></tr>
`)}</table>
<p style="margin-bottom:4px"><strong>Args</strong>${argsHeading === 'Args' ? '' : argsHeading.slice('Args'.length)}</p>
<pre style="background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:12px;white-space:pre-wrap;word-break:break-word">${summary.argsText}</pre>
${summary.originalArgsText ? html`<p style="margin-bottom:4px">A reviewer edited the args; the agent originally sent:</p><pre style="background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:12px;white-space:pre-wrap;word-break:break-word">${summary.originalArgsText}</pre>` : ''}
${approveUrl ? '' : html`<p>This email cannot show the whole args, so it cannot approve them.${elsewhere.url ? '' : html` ${elsewhere.text}`}</p>`}
<p style="margin:20px 0">${decisionButtons({ approveUrl, elsewhere, denyUrl }, 'large')}</p>
<p style="color:#59636e;font-size:13px">${footer.join(' ')}</p>
`);
  return { subject, text, html: body.value };
}
