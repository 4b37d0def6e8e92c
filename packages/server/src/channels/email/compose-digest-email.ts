import type { ApprovalRequest } from '@signoff/core';
import type { Reviewer } from '../../engine/reviewer.js';
import { formatTime } from '../format-time.js';
import { reviewElsewhere } from '../review-elsewhere.js';
import { decisionButtons, emailPage, requestFacts } from './email-parts.js';
import { html } from './safe-html.js';
import { summarizeRequest } from './summarize-request.js';
import type { ApprovalEmail } from './compose-approval-email.js';

/** One request in a digest, with its own links (signed for this reviewer, this request and verdict). */
export interface DigestItem {
  readonly request: ApprovalRequest;
  /** Only when the digest shows the args whole (as in the one-request email). */
  readonly approveUrl?: string;
  readonly denyUrl: string;
  readonly linksExpireAt: Date;
  readonly testedPaths?: readonly string[];
}

export interface DigestEmailInput {
  readonly reviewer: Reviewer;
  /** What waits for the reviewer, oldest first. */
  readonly items: readonly DigestItem[];
  /** How many more wait than the digest lists (see them in the inbox or with `signoff approvals list`). */
  readonly more: number;
  readonly inboxBaseUrl?: string;
  readonly now: Date;
}

const MAX_ARGS_CHARS = 5_000;

/**
 * The digest email: every request waiting for this reviewer, each with its facts, its args (tested
 * fields first) and its own Approve / Deny links to the same confirm pages as the one-request email.
 * No Approve link next to args too long to show whole.
 *
 * @example
 * const email = composeDigestEmail({ reviewer, items, more: 0, now: new Date() });
 */
export function composeDigestEmail(input: DigestEmailInput): ApprovalEmail {
  const { reviewer, items, now } = input;
  const count = items.length + input.more;
  const subject = `${count} approval${count === 1 ? '' : 's'} waiting for you`;
  const entries = items.map((item) => {
    const summary = summarizeRequest(item.request, { now, maxArgsChars: MAX_ARGS_CHARS, ...(item.testedPaths ? { testedPaths: item.testedPaths } : {}) });
    const approveUrl = summary.argsWhole ? item.approveUrl : undefined;
    const elsewhere = reviewElsewhere(item.request.id, input.inboxBaseUrl);
    const facts = requestFacts(summary);
    return { item, summary, approveUrl, elsewhere, facts, linksExpire: formatTime(item.linksExpireAt.toISOString()) };
  });
  const moreLine = input.more > 0 ? `${input.more} more wait${input.more === 1 ? 's' : ''} for you: ${input.inboxBaseUrl ? `see ${new URL('inbox', input.inboxBaseUrl.endsWith('/') ? input.inboxBaseUrl : `${input.inboxBaseUrl}/`)}` : 'run `signoff approvals list --actionable`'}.` : '';
  const footer = 'Each link opens a page that shows the request again; nothing is decided until you press the button there. The links are for you only, work once, and expire at the time shown.';

  const text = [
    `Hi ${reviewer.name},`,
    '',
    `${count} request${count === 1 ? '' : 's'} wait${count === 1 ? 's' : ''} for your decision.`,
    ...entries.flatMap(({ item, summary, approveUrl, elsewhere, facts, linksExpire }, index) => [
      '',
      `${index + 1}. ${summary.tool} (${item.request.id})`,
      ...facts.map(([label, value]) => `   ${label}: ${value}`),
      `   Args${summary.testedNote ? ` (${summary.testedNote})` : ''}${summary.argsWhole ? '' : ' — too long to show whole here'}:`,
      ...summary.argsText.split('\n').map((line) => `   ${line}`),
      approveUrl ? `   Approve: ${approveUrl}` : `   Cannot approve from this email: ${elsewhere.url ? `review in the inbox: ${elsewhere.url}` : elsewhere.text}`,
      `   Deny:    ${item.denyUrl}`,
      `   Links expire at ${linksExpire}.`,
    ]),
    ...(moreLine ? ['', moreLine] : []),
    '',
    footer,
    '',
  ].join('\n');

  const body = emailPage(subject, reviewer.name, html`<p>${count} request${count === 1 ? '' : 's'} wait${count === 1 ? 's' : ''} for your decision.</p>
${entries.map(
  ({ item, summary, approveUrl, elsewhere, facts, linksExpire }, index) => html`<div style="border:1px solid #d0d7de;border-radius:8px;padding:12px;margin:16px 0">
<p style="margin:0 0 8px"><strong>${index + 1}. <code>${summary.tool}</code></strong> <span style="color:#59636e">${item.request.id}</span></p>
<table style="border-collapse:collapse">
${facts.map(([label, value]) => html`<tr><th style="text-align:left;vertical-align:top;padding:2px 12px 2px 0;white-space:nowrap">${label}</th><td style="padding:2px 0">${value}</td></tr>
`)}</table>
<pre style="background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;white-space:pre-wrap;word-break:break-word">${summary.argsText}</pre>
<p style="margin:12px 0 4px">${decisionButtons({ approveUrl, elsewhere, denyUrl: item.denyUrl }, 'small')}</p>
<p style="color:#59636e;font-size:12px;margin:0">${approveUrl ? '' : 'This email cannot show the whole args, so it cannot approve them. '}Links expire at ${linksExpire}.</p>
</div>
`,
)}
${moreLine ? html`<p>${moreLine}</p>` : ''}
<p style="color:#59636e;font-size:13px">${footer}</p>
`);
  return { subject, text, html: body.value };
}
