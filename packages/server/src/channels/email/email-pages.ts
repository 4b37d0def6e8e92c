import { createHash } from 'node:crypto';
import type { ApprovalRequest } from '@signoff/core';
import type { Reviewer } from '../../engine/reviewer.js';
import { formatArgsForReview } from '../format-args-for-review.js';
import { revealHiddenCharacters } from '../reveal-hidden-characters.js';
import { reviewElsewhere } from '../review-elsewhere.js';
import { html, SafeHtml } from './safe-html.js';
import { summarizeRequest } from './summarize-request.js';

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;max-width:680px;margin:0 auto;padding:24px}
h1{font-size:22px}th{text-align:left;vertical-align:top;padding:4px 12px 4px 0;white-space:nowrap}td{padding:4px 0}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:12px;white-space:pre-wrap;word-break:break-word}
textarea{width:100%;box-sizing:border-box;font:inherit;margin:4px 0 12px}
button{font:inherit;font-weight:600;padding:10px 26px;border:0;border-radius:6px;color:#fff;cursor:pointer}
.approve{background:#1a7f37}.deny{background:#cf222e}.note{color:#59636e;font-size:14px}
.banner{padding:12px 16px;border-radius:6px;border:1px solid}.good{background:#dafbe1;border-color:#1a7f37}
.bad{background:#ffebe9;border-color:#cf222e}.info{background:#ddf4ff;border-color:#0969da}`;

/**
 * The pages' security headers: never cached or framed, no referrer (the URL holds a token), and a
 * CSP that allows no script at all — only this file's one stylesheet, by hash — and forms back to us.
 */
export const EMAIL_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
};

const MAX_ARGS_CHARS = 20_000;
const VERB = { approve: 'Approve', deny: 'Deny' } as const;

/**
 * Whether the confirm page shows these args whole (at most 20,000 characters as printed). An
 * approve link to longer args opens a page with no Approve button, and the server refuses an
 * approval posted for them (`ARGS_NOT_SHOWN`).
 *
 * @example
 * if (!confirmPageShowsArgsWhole(request.approvedArgs)) console.log('review it in the inbox');
 */
export function confirmPageShowsArgsWhole(args: unknown): boolean {
  return formatArgsForReview(args, []).length <= MAX_ARGS_CHARS;
}

/** What every page showing a request needs besides the request. */
export interface RequestViewOptions {
  /** The paths the deciding rule tested: those args are shown first. */
  readonly testedPaths?: readonly string[];
  /** The server's public URL when it serves the inbox, to link args too long for the page. */
  readonly inboxBaseUrl?: string;
}

export interface ConfirmPageInput extends RequestViewOptions {
  readonly request: ApprovalRequest;
  readonly reviewer: Reviewer;
  readonly verdict: 'approve' | 'deny';
  /** The link's token, posted back in a hidden field. */
  readonly token: string;
  readonly now: Date;
}

/**
 * The page an email link opens: the request, and one button that POSTs the token (and the args
 * hash shown, so a decision never lands on args the reviewer did not see). No script. An approve
 * link to args too long to show whole gets no button, only where to review them whole.
 *
 * @example
 * return context.html(renderConfirmPage({ request, reviewer, verdict: 'approve', token, now: new Date() }).value);
 */
export function renderConfirmPage(input: ConfirmPageInput): SafeHtml {
  const { request, reviewer, verdict } = input;
  const verb = VERB[verdict];
  const tool = revealHiddenCharacters(request.tool);
  if (verdict === 'approve' && !confirmPageShowsArgsWhole(request.approvedArgs)) {
    const elsewhere = reviewElsewhere(request.id, input.inboxBaseUrl);
    return layout(
      `Review ${tool} in the inbox`,
      html`<h1>Review <code>${tool}</code> in the inbox</h1>
<p class="banner info">These args are too long to show whole on this page, so it cannot approve them. ${
        elsewhere.url ? html`<a href="${elsewhere.url}">Review them whole in the inbox</a> and approve there.` : elsewhere.text
      } Nothing has been decided.</p>
${renderRequest(request, input.now, input)}`,
    );
  }
  return layout(
    `${verb} ${tool}?`,
    html`<h1>${verb} <code>${tool}</code>?</h1>
<p>This link acts for <strong>${reviewer.name}</strong> (${reviewer.id}) only.</p>
${renderRequest(request, input.now, input)}
<form method="post" action="decide">
<input type="hidden" name="token" value="${input.token}">
<input type="hidden" name="argsHash" value="${request.approvedArgsHash}">
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" rows="3" maxlength="1000"></textarea>
<button type="submit" class="${verdict}">${verb}</button>
</form>
<p class="note">Nothing has been decided yet: the ${verdict === 'approve' ? 'approval' : 'denial'} is recorded only when you press the button.</p>`,
  );
}

export interface ResultPageInput extends RequestViewOptions {
  readonly title: string;
  readonly message: string;
  /** A link after the message (where to go next). */
  readonly link?: { readonly href: string; readonly text: string };
  readonly tone: 'good' | 'bad' | 'info';
  /** Shown below the message when there is a request to show. */
  readonly request?: ApprovalRequest;
  readonly now: Date;
}

/**
 * What a decision did, or why a link was refused.
 *
 * @example
 * renderResultPage({ title: 'Link expired', message: 'This link expired at …', tone: 'bad', now: new Date() });
 */
export function renderResultPage(input: ResultPageInput): SafeHtml {
  return layout(
    input.title,
    html`<h1>${input.title}</h1>
<p class="banner ${input.tone}">${input.message}${input.link ? html` <a href="${input.link.href}">${input.link.text}</a>` : ''}</p>
${input.request ? renderRequest(input.request, input.now, input) : ''}`,
  );
}

function renderRequest(request: ApprovalRequest, now: Date, options: RequestViewOptions): SafeHtml {
  const summary = summarizeRequest(request, { now, maxArgsChars: MAX_ARGS_CHARS, ...(options.testedPaths ? { testedPaths: options.testedPaths } : {}) });
  const facts: Array<[string, string]> = [
    ['Status', request.status],
    ['Reason', summary.reason],
    ['Requested by', summary.requestedBy],
    ['Who must approve', summary.whoMustApprove],
    ['So far', summary.progress],
    ['Deadline', `${summary.deadline} (${summary.timeLeft}${summary.timeLeft.startsWith('the') ? '' : ' left'})`],
  ];
  return html`<table>
${facts.map(([label, value]) => html`<tr><th>${label}</th><td>${value}</td></tr>\n`)}</table>
<p><strong>Args</strong>${summary.testedNote ? ` (${summary.testedNote})` : ''}${summary.argsWhole ? '' : ` — too long to show whole here (the first ${MAX_ARGS_CHARS.toLocaleString('en')} characters)`}</p>
<pre>${summary.argsText}</pre>
${summary.originalArgsText ? html`<p>A reviewer edited the args; the agent originally sent:</p><pre>${summary.originalArgsText}</pre>` : ''}`;
}

function layout(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title} · Signoff</title><style>${new SafeHtml(STYLE)}</style></head>
<body>
${body}
</body></html>
`;
}
