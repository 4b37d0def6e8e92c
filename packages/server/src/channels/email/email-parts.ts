import type { ReviewElsewhere } from '../review-elsewhere.js';
import { html, type SafeHtml } from './safe-html.js';
import type { RequestSummary } from './summarize-request.js';

/** The facts both emails list for a request, label first, in the order a reviewer reads them. */
export function requestFacts(summary: RequestSummary): Array<[label: string, value: string]> {
  return [
    ['Reason', summary.reason],
    ['Requested by', summary.requestedBy],
    ['Who must approve', summary.whoMustApprove],
    ['So far', summary.progress],
    ['Deadline', `${summary.deadline} (${summary.timeLeft} left)`],
  ];
}

/** A link styled as a button (mail clients drop stylesheets, so the style is inline). */
export function emailButton(href: string, label: string, color: string, size: 'large' | 'small' = 'large'): SafeHtml {
  const padding = size === 'large' ? '10px 22px;margin-right:12px' : '8px 18px;margin-right:10px';
  return html`<a href="${href}" style="display:inline-block;padding:${padding};border-radius:6px;background:${color};color:#ffffff;text-decoration:none;font-weight:600">${label}</a>`;
}

/**
 * Approve (only when the email shows the args whole) or else "Review in the inbox" where there is
 * one, then Deny: the same choice in the one-request email and in every digest item.
 */
export function decisionButtons(links: { approveUrl: string | undefined; elsewhere: ReviewElsewhere; denyUrl: string }, size: 'large' | 'small'): SafeHtml {
  const first = links.approveUrl
    ? emailButton(links.approveUrl, 'Approve', '#1a7f37', size)
    : links.elsewhere.url
      ? emailButton(links.elsewhere.url, 'Review in the inbox', '#0969da', size)
      : '';
  return html`${first}${emailButton(links.denyUrl, 'Deny', '#cf222e', size)}`;
}

/** The HTML document both emails share: title, inline page style, the greeting, then `content`. */
export function emailPage(subject: string, reviewerName: string, content: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;max-width:640px;margin:0 auto;padding:16px">
<p>Hi ${reviewerName},</p>
${content}</body></html>
`;
}
