import { createHash } from 'node:crypto';
import type { Reviewer } from '../../engine/reviewer.js';
import { html, SafeHtml } from '../email/safe-html.js';

const STYLE = `*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa;line-height:1.45;overflow-wrap:anywhere}
header{background:#24292f;color:#fff;padding:10px 24px;display:flex;flex-wrap:wrap;gap:8px 20px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header .brand{font-size:17px;margin-right:8px}
header .who{margin-left:auto;color:#d0d7de;font-size:14px}header form{margin:0}
header button{background:transparent;border:1px solid #57606a;padding:4px 12px;font-weight:500}
main{max-width:940px;margin:0 auto;padding:24px}main.narrow{max-width:460px;padding-top:64px}
h1{font-size:22px;margin:0 0 16px}h2{font-size:16px;margin:0 0 12px}pre+h2{margin-top:16px}
a{color:#0969da}code,pre,.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin-bottom:16px;min-width:0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:7px 12px 7px 0;border-bottom:1px solid #eaeef2}
tr:last-child>th,tr:last-child>td{border-bottom:0}
th{white-space:nowrap;color:#59636e;font-weight:600;font-size:14px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:12px;white-space:pre-wrap;word-break:break-word;margin:0;font-size:13px}
pre.args{max-height:32em;overflow:auto}
label{font-weight:600;font-size:14px}
textarea,input[type=password]{display:block;width:100%;font:inherit;padding:8px;border:1px solid #d0d7de;border-radius:6px;margin:4px 0 12px}
textarea.code{font-size:13px}
button{font:inherit;font-weight:600;padding:9px 22px;border:0;border-radius:6px;color:#fff;cursor:pointer;background:#0969da}
.approve{background:#1a7f37}.deny{background:#cf222e}
.buttons{display:flex;flex-wrap:wrap;gap:12px}
ul.diff{margin:0;padding-left:20px;font-size:14px}ul.diff li{margin:4px 0}ul.diff code{font-weight:600}
del{background:#ffebe9;color:#82071e}ins{background:#dafbe1;color:#116329;text-decoration:none}
.tested{font-size:14px}.tested code{background:#f6f8fa;border:1px solid #eaeef2;border-radius:4px;padding:0 4px}
details{margin-bottom:12px}summary{cursor:pointer;color:#0969da;font-size:14px}
.note{color:#59636e;font-size:14px}.empty{color:#59636e;text-align:center;padding:24px 0}
.banner{padding:12px 16px;border-radius:6px;border:1px solid;margin:0 0 16px}
.good{background:#dafbe1;border-color:#1a7f37}.bad{background:#ffebe9;border-color:#cf222e}.info{background:#ddf4ff;border-color:#0969da}
.pill{display:inline-block;padding:1px 10px;border-radius:999px;font-size:12px;font-weight:600;border:1px solid #d0d7de;background:#f6f8fa;vertical-align:middle}
.s-pending{background:#fff8c5;border-color:#d4a72c}.s-approved,.s-executed{background:#dafbe1;border-color:#1a7f37}
.s-denied{background:#ffebe9;border-color:#cf222e}.s-expired{background:#eaeef2;border-color:#afb8c1}
.soon{color:#cf222e;font-weight:600}
footer{max-width:940px;margin:0 auto;padding:0 24px 24px}.live.on::before{content:"● ";color:#1a7f37}
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:4px 14px;align-items:end}form.filters .wide{grid-column:1/-1}
form.filters input,form.filters select{display:block;width:100%;font:inherit;padding:6px 8px;border:1px solid #d0d7de;border-radius:6px;margin:4px 0 8px;background:#fff}
form.filters .buttons{align-items:center;margin-bottom:8px}form.filters button{padding:7px 22px}
.pager{display:flex;gap:24px;justify-content:center}
a.button{display:inline-block;font-weight:600;padding:9px 22px;border-radius:6px;color:#fff;background:#0969da;text-decoration:none}
table.trail td{font-size:14px}table.trail td.detail{color:#59636e}
@media (min-width:721px){table.history .pill,table.history td>a>code,table.trail td.who{white-space:nowrap}}
@media (max-width:720px){
header{padding:8px 12px;gap:6px 14px}header .who{font-size:13px}
main{padding:12px}main.narrow{padding-top:24px}footer{padding:0 12px 12px}.card{padding:12px 14px}
table.rows,table.rows tbody,table.rows tr,table.rows td{display:block}
table.rows tr.head{display:none}
table.rows tr{padding:10px 0;border-bottom:1px solid #eaeef2}table.rows tr:last-child{border-bottom:0}
table.rows td{border:0;padding:2px 0}
table.rows td[data-label]::before{content:attr(data-label) ": ";color:#59636e;font-weight:600;font-size:14px}
table.facts,table.facts tbody,table.facts tr,table.facts th,table.facts td{display:block}
table.facts th{padding:8px 0 0;border:0}table.facts td{padding:0 0 8px}
}`;

/**
 * The inbox pages' security headers: never cached, framed or sniffed, no referrer to other sites
 * (`no-referrer` would make browsers send `Origin: null` on our own forms), and a CSP that allows
 * the one stylesheet below (by hash), scripts only from this origin (the inbox serves one,
 * `/inbox/live.js`; nothing inline), connections back to us (its event stream) and forms posting back to us.
 */
export const INBOX_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; script-src 'self'; connect-src 'self'`,
};

/** A page that updates itself while open (see `/inbox/live.js`): a list, or one request. */
export type LivePage = { readonly kind: 'list' } | { readonly kind: 'request'; readonly requestId: string };

/** The signed-in reviewer, and the CSRF token of the sign-out form every page carries. */
export interface InboxViewer {
  readonly reviewer: Reviewer;
  readonly logoutToken: string;
}

/**
 * A full inbox page: the header (navigation, who is signed in, sign out) around `body`.
 *
 * @example
 * renderLayout({ title: 'Pending', viewer, body: html`<h1>Pending</h1>` });
 */
export function renderLayout(input: { readonly title: string; readonly viewer?: InboxViewer; readonly body: SafeHtml; readonly live?: LivePage }): SafeHtml {
  const { viewer, live } = input;
  const header = viewer
    ? html`<header><a class="brand" href="/inbox">Signoff inbox</a><a href="/inbox">Pending</a><a href="/inbox/history">History</a>
<span class="who">Signed in as ${viewer.reviewer.name} (${viewer.reviewer.id})</span>
<form method="post" action="/inbox/logout"><input type="hidden" name="csrf" value="${viewer.logoutToken}"><button type="submit">Sign out</button></form></header>`
    : html`<header><span class="brand">Signoff inbox</span></header>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${input.title} · Signoff</title><style>${new SafeHtml(STYLE)}</style></head>
<body${live ? html` data-live="${live.kind}"${live.kind === 'request' ? html` data-request="${live.requestId}"` : ''}` : ''}>
${header}
${viewer ? html`<main>${input.body}</main>` : html`<main class="narrow">${input.body}</main>`}
${live ? html`<footer><p class="note live" id="live-status">This page does not update by itself: reload it to see changes.</p></footer>
<script src="/inbox/live.js" defer></script>` : ''}
</body></html>
`;
}

export { formatTime } from '../format-time.js';

/**
 * A coloured label for a request's status.
 *
 * @example
 * html`<h1>${request.tool} ${statusPill(request.status)}</h1>`;
 */
export function statusPill(status: string): SafeHtml {
  return html`<span class="pill s-${status}">${status}</span>`;
}
