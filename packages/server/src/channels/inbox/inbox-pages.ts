import type { ApprovalRequest } from '@signoff/core';
import { html, type SafeHtml } from '../email/safe-html.js';
import { describeTimeLeft, summarizeRequest } from '../email/summarize-request.js';
import { revealHiddenCharacters } from '../reveal-hidden-characters.js';
import type { TestedPathsLookup } from '../create-tested-paths-lookup.js';
import { HISTORY_STATUSES, type HistoryQuery, type HistoryStatus } from './history-query.js';
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
 * The sign-in form: a reviewer API key, posted with the login form's CSRF token; and, when an
 * identity provider is configured, a link that starts signing in there.
 *
 * @example
 * renderLoginPage({ csrf, next: '/inbox/requests/apr_…', sessionHours: 12 });
 */
export function renderLoginPage(input: { readonly csrf: string; readonly next: string; readonly sessionHours: number; readonly error?: string; readonly oidc?: { readonly href: string; readonly label: string } }): SafeHtml {
  return renderLayout({
    title: 'Sign in',
    body: html`<div class="card"><h1>Sign in</h1>
${input.error ? html`<p class="banner bad">${input.error}</p>` : ''}
${input.oidc ? html`<p><a class="button" href="${input.oidc.href}">${input.oidc.label}</a></p><p class="note or">or with a reviewer key:</p>` : ''}
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

/** The history page's filter form: what was asked, the choices offered, and where the next page is. */
export interface HistoryFilters {
  readonly query: HistoryQuery;
  /** Exact tool names the policy names (suggestions; any name may be typed). */
  readonly tools: readonly string[];
  /** Agent principals (API key names). */
  readonly agents: readonly string[];
  readonly reviewers: readonly { readonly id: string; readonly name: string }[];
  /** Why the query was refused (nothing is listed then). */
  readonly error?: string;
  /** The next (older) page, when there is one. */
  readonly olderHref?: string;
  /** The first page, when this is a later one. */
  readonly newestHref?: string;
}

const STATUS_LABELS: Record<HistoryStatus, string> = {
  resolved: 'Resolved (any)',
  any: 'Any status',
  pending: 'Pending',
  approved: 'Approved',
  executed: 'Executed',
  denied: 'Denied',
  expired: 'Expired',
};

/**
 * Requests found by the filter form (resolved ones by default), newest first, a page at a time.
 * The form is a plain GET form: it works without JavaScript, and every filtered page has a link.
 *
 * @example
 * renderHistoryPage({ viewer, requests, now: new Date(), filters: { query, tools, agents, reviewers } });
 */
export function renderHistoryPage(input: ListPageInput & { readonly filters?: HistoryFilters }): SafeHtml {
  const filters = input.filters;
  const query = filters?.query;
  const filtered = query !== undefined && (query.status !== 'resolved' || Object.entries(query).some(([name, value]) => name !== 'status' && value !== ''));
  const rows = input.requests.map((request) => {
    const summary = summarizeRequest(request, { now: input.now, maxArgsChars: CELL_CHARS });
    return html`<tr><td>${statusPill(request.status)}</td><td><a href="/inbox/requests/${request.id}"><code>${summary.tool}</code></a></td>
<td>${clip(summary.reason)}${testedValues(request, input.testedPathsOf)}</td><td data-label="Requested by">${summary.requestedBy}</td><td data-label="Resolution">${clip(request.resolution)}</td><td data-label="${request.resolvedAt ? 'Resolved' : 'Created'}">${formatTime(request.resolvedAt ?? request.createdAt)}</td></tr>\n`;
  });
  const pager = filters && (filters.olderHref || filters.newestHref)
    ? html`<p class="pager">${filters.newestHref ? html`<a href="${filters.newestHref}">← Newest</a>` : ''}${filters.olderHref ? html`<a href="${filters.olderHref}" rel="next">Older →</a>` : ''}</p>`
    : '';
  return renderLayout({
    title: 'History',
    viewer: input.viewer,
    live: { kind: 'list' },
    body: html`<h1>History</h1>
${filters ? filterForm(filters) : ''}
${filters?.error ? html`<p class="banner bad" role="alert">${filters.error}</p>` : ''}
<div class="card">${
      rows.length === 0
        ? html`<p class="empty">${filters?.error ? 'Fix the filter above to see requests.' : filtered ? 'No request matches these filters.' : 'No request has been resolved yet.'}</p>`
        : html`<table class="rows history"><tr class="head"><th>Status</th><th>Tool</th><th>Reason</th><th>Requested by</th><th>Resolution</th><th>Resolved</th></tr>
${rows}</table>`
    }</div>
${pager}`,
  });
}

function filterForm(filters: HistoryFilters): SafeHtml {
  const { query } = filters;
  const option = (value: string, label: string, chosen: string) => html`<option value="${value}"${value === chosen ? html` selected` : ''}>${label}</option>`;
  // A value typed earlier that is no longer configured stays selectable, so the form shows what was asked.
  const agents = query.agent && !filters.agents.includes(query.agent) ? [...filters.agents, query.agent] : filters.agents;
  const reviewers = query.reviewer && !filters.reviewers.some((reviewer) => reviewer.id === query.reviewer) ? [...filters.reviewers, { id: query.reviewer, name: query.reviewer }] : filters.reviewers;
  return html`<form class="card filters" method="get" action="/inbox/history" role="search">
<div class="wide"><label for="f-q">Search</label><input type="search" id="f-q" name="q" value="${query.q}" maxlength="200" placeholder="text in args, reason, comments"></div>
<div><label for="f-status">Status</label><select id="f-status" name="status">${HISTORY_STATUSES.map((status) => option(status, STATUS_LABELS[status], query.status))}</select></div>
<div><label for="f-tool">Tool</label><input type="text" id="f-tool" name="tool" value="${query.tool}" maxlength="200" list="f-tools" placeholder="any tool"><datalist id="f-tools">${filters.tools.map((tool) => html`<option value="${tool}">`)}</datalist></div>
<div><label for="f-agent">Agent</label><select id="f-agent" name="agent">${option('', 'Any agent', query.agent)}${agents.map((agent) => option(agent, agent, query.agent))}</select></div>
<div><label for="f-reviewer">Decided by</label><select id="f-reviewer" name="reviewer">${option('', 'Anyone', query.reviewer)}${reviewers.map((reviewer) => option(reviewer.id, `${reviewer.name} (${reviewer.id})`, query.reviewer))}</select></div>
<div><label for="f-from">Created from</label><input type="date" id="f-from" name="from" value="${query.from}"></div>
<div><label for="f-to">Created to</label><input type="date" id="f-to" name="to" value="${query.to}"></div>
<div class="buttons"><button type="submit">Filter</button><a class="clear" href="/inbox/history">Clear</a></div>
</form>`;
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
