import type { ApprovalRequest } from '@signoff/core';
import { html, type SafeHtml } from '../email/safe-html.js';
import { describeTimeLeft, summarizeRequest } from '../email/summarize-request.js';
import { revealHiddenCharacters } from '../reveal-hidden-characters.js';
import type { TestedPathsLookup } from '../create-tested-paths-lookup.js';
import { formatTime, renderLayout, statusPill, type InboxViewer } from './inbox-layout.js';

/** Table cells are short: long reasons and args belong on the request page. */
const CELL_CHARS = 160;
const SOON_MS = 10 * 60_000;
/** A tested value in a list row is a hint, cut short; the request page shows it whole. */
const TESTED_VALUE_CHARS = 60;

/** What a list shows of each request, beyond its tool: the paths its deciding rule tested. */
export interface ListPageInput {
  readonly viewer: InboxViewer;
  readonly requests: readonly ApprovalRequest[];
  readonly now: Date;
  /** The deciding rule's tested paths, whose values tell one row from the next (`amount 4800 · to acme`). */
  readonly testedPathsOf?: TestedPathsLookup;
  /** How many there are in all, when the list is one page of them. */
  readonly total?: number;
  /** Links to the pages after and before this one, when there are such pages. */
  readonly next?: string;
  readonly previous?: string;
}

/**
 * The sign-in form: a reviewer API key, posted with the login form's CSRF token.
 *
 * @example
 * renderLoginPage({ csrf, next: '/inbox/requests/apr_…', sessionHours: 12 });
 */
export function renderLoginPage(input: { readonly csrf: string; readonly next: string; readonly sessionHours: number; readonly error?: string }): SafeHtml {
  return renderLayout({
    title: 'Sign in',
    body: html`<div class="card"><h1>Sign in</h1>
${input.error ? html`<p class="banner bad">${input.error}</p>` : ''}
<form method="post" action="/inbox/login">
<input type="hidden" name="csrf" value="${input.csrf}">
<input type="hidden" name="next" value="${input.next}">
<label for="key">Reviewer API key</label>
<input type="password" id="key" name="key" autocomplete="off" required maxlength="512">
<button type="submit">Sign in</button>
</form>
<p class="note">Use the reviewer key your Signoff admin gave you. You stay signed in on this browser for ${input.sessionHours} hours, or until you sign out.</p></div>`,
  });
}

/**
 * The requests waiting for this reviewer, soonest deadline first.
 *
 * @example
 * renderPendingPage({ viewer, requests: await service.list({ actionableBy: reviewer }), now: new Date() });
 */
export function renderPendingPage(input: ListPageInput): SafeHtml {
  const requests = [...input.requests].sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));
  const rows = requests.map((request) => {
    const summary = summarizeRequest(request, { now: input.now, maxArgsChars: CELL_CHARS });
    const left = Date.parse(request.expiresAt) - input.now.getTime();
    return html`<tr><td><a href="/inbox/requests/${request.id}"><code>${summary.tool}</code></a></td><td>${clip(summary.reason)}${testedValues(request, input.testedPathsOf)}</td>
<td data-label="Requested by">${summary.requestedBy}</td><td data-label="Approvals">${summary.progress}</td><td data-label="Time left" class="time-left${left < SOON_MS ? ' soon' : ''}">${describeTimeLeft(left)}</td></tr>\n`;
  });
  return renderLayout({
    title: 'Pending',
    viewer: input.viewer,
    live: { kind: 'list' },
    body: html`<h1>Waiting for you (${input.total ?? requests.length})</h1>
<div class="card">${
      requests.length === 0
        ? html`<p class="empty">Nothing is waiting for you. Requests you can approve appear here as agents ask.</p>`
        : html`<table class="rows"><tr class="head"><th>Tool</th><th>Reason</th><th>Requested by</th><th>Approvals</th><th>Time left</th></tr>
${rows}</table>`
    }${input.next || input.previous ? html`<nav class="pages">${input.previous ? html`<a href="${input.previous}" rel="prev">← Previous</a>` : ''} ${input.next ? html`<a href="${input.next}" rel="next">Next →</a>` : ''}</nav>` : ''}</div>
<p class="note">Only requests you can act on are listed: you hold a role they need, you did not ask for them, and you have not decided them yet.</p>`,
  });
}

/**
 * Resolved requests, most recently resolved first.
 *
 * @example
 * renderHistoryPage({ viewer, requests: resolved, now: new Date() });
 */
export function renderHistoryPage(input: ListPageInput): SafeHtml {
  const rows = input.requests.map((request) => {
    const summary = summarizeRequest(request, { now: input.now, maxArgsChars: CELL_CHARS });
    return html`<tr><td>${statusPill(request.status)}</td><td><a href="/inbox/requests/${request.id}"><code>${summary.tool}</code></a></td>
<td>${clip(summary.reason)}${testedValues(request, input.testedPathsOf)}</td><td data-label="Requested by">${summary.requestedBy}</td><td data-label="Resolution">${clip(request.resolution)}</td><td data-label="Resolved">${formatTime(request.resolvedAt)}</td></tr>\n`;
  });
  return renderLayout({
    title: 'History',
    viewer: input.viewer,
    live: { kind: 'list' },
    body: html`<h1>History</h1>
<div class="card">${
      rows.length === 0
        ? html`<p class="empty">No request has been resolved yet.</p>`
        : html`<table class="rows"><tr class="head"><th>Status</th><th>Tool</th><th>Reason</th><th>Requested by</th><th>Resolution</th><th>Resolved</th></tr>
${rows}</table>`
    }</div>`,
  });
}

/**
 * A page that only says something: not found, signed out, a refused form.
 *
 * @example
 * renderMessagePage({ title: 'Not found', message: 'No request apr_… on this server.', tone: 'bad' });
 */
export function renderMessagePage(input: { readonly title: string; readonly message: string; readonly tone: 'good' | 'bad' | 'info'; readonly viewer?: InboxViewer; readonly link?: { readonly href: string; readonly text: string } }): SafeHtml {
  return renderLayout({
    title: input.title,
    ...(input.viewer ? { viewer: input.viewer } : {}),
    body: html`<div class="card"><h1>${input.title}</h1><p class="banner ${input.tone}">${input.message}</p>
${input.link ? html`<p><a href="${input.link.href}">${input.link.text}</a></p>` : ''}</div>`,
  });
}

/**
 * The values of the fields the deciding rule tested (`amount 4800 · to acme`), from the args an
 * approval would run: two requests for the same tool differ there. Empty when the rule tested none.
 */
function testedValues(request: ApprovalRequest, testedPathsOf: TestedPathsLookup | undefined): SafeHtml | string {
  const parts = (testedPathsOf?.(request.ruleId) ?? []).flatMap((path) => {
    const [root, ...segments] = path.split('.');
    const value = readOwnPath(root === 'args' ? request.approvedArgs : root === 'context' ? request.context : undefined, segments);
    if (value === undefined) return [];
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
    const name = root === 'args' ? segments.join('.') : path;
    return [html`<span>${revealHiddenCharacters(name)} <code>${revealHiddenCharacters(text.length <= TESTED_VALUE_CHARS ? text : `${text.slice(0, TESTED_VALUE_CHARS - 1)}…`)}</code></span>`];
  });
  if (parts.length === 0) return '';
  return html`<div class="tested">${parts.map((part, index) => (index === 0 ? part : html` · ${part}`))}</div>`;
}

/** Reads own data properties only, so a path never reaches a prototype. */
function readOwnPath(root: unknown, segments: readonly string[]): unknown {
  let value = root;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return typeof value === 'function' ? undefined : value;
}

function clip(text: string): string {
  return text.length <= CELL_CHARS ? text : `${text.slice(0, CELL_CHARS - 1)}…`;
}
