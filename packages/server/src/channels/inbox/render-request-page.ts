import type { ApprovalRequest } from '@signoff/core';
import type { AuditEntry, AuditEventType } from '../../audit/audit-event.js';
import type { Reviewer } from '../../engine/reviewer.js';
import { html, type SafeHtml } from '../email/safe-html.js';
import { summarizeRequest } from '../email/summarize-request.js';
import { formatArgsForReview } from '../format-args-for-review.js';
import { revealHiddenCharacters } from '../reveal-hidden-characters.js';
import { diffArgs } from './args-diff.js';
import { formatTime, renderLayout, statusPill, type InboxViewer } from './inbox-layout.js';

/** What the reviewer typed, kept when a form comes back with an error. */
export interface DecisionFormValues {
  readonly verdict: 'approve' | 'deny';
  readonly comment: string;
  /** The args textarea as posted (approve only). */
  readonly argsText?: string;
}

export interface RequestPageInput {
  readonly viewer: InboxViewer;
  readonly request: ApprovalRequest;
  readonly now: Date;
  /** CSRF token of the decide form. */
  readonly decideToken: string;
  /** The reviewer directory, to name approvers and the roles they cover. */
  readonly reviewerById: (id: string) => Reviewer | undefined;
  readonly banner?: { readonly tone: 'good' | 'bad' | 'info'; readonly message: string };
  readonly form?: DecisionFormValues;
  /** The paths the deciding rule tested: those args are shown first. */
  readonly testedPaths?: readonly string[];
  /** Every audit entry about the request, in order: shown at the end of the page. */
  readonly auditTrail?: readonly AuditEntry[];
}

/**
 * One request: the args — whole, however long (other channels send reviewers here when they
 * cannot show them whole), the fields the rule tested first, hidden characters escaped, in a box
 * that scrolls by itself — reason, rule, requester, approvals so far and what is still missing,
 * the deadline, a reviewer's edit as a diff against the agent's args; and, while it is pending,
 * one form with a comment box and Approve (optionally with edited args) / Deny buttons, posting to
 * `/inbox/requests/:id/decide`.
 *
 * @example
 * renderRequestPage({ viewer, request, now: new Date(), decideToken, reviewerById: service.reviewerById });
 */
export function renderRequestPage(input: RequestPageInput): SafeHtml {
  const { request, now } = input;
  const testedPaths = input.testedPaths ?? [];
  const summary = summarizeRequest(request, { now, maxArgsChars: Number.POSITIVE_INFINITY, testedPaths });
  const pending = request.status === 'pending';
  const current = request.decisions.filter((decision) => decision.argsHash === request.approvedArgsHash);
  const approvers = current
    .filter((decision) => decision.verdict === 'approve')
    .map((decision) => input.reviewerById(decision.reviewer))
    .filter((reviewer): reviewer is Reviewer => reviewer !== undefined);
  const facts: Array<[string, SafeHtml | string]> = [
    ['Status', html`${statusPill(request.status)} ${request.resolution}`],
    ['Reason', summary.reason],
    ['Rule', request.ruleId ?? '(the policy default)'],
    ['Requested by', summary.requestedBy],
    ['Who must approve', summary.whoMustApprove],
    ['Approvals so far', summary.progress],
    ...(pending ? ([['Still missing', stillMissing(request, approvers)]] as Array<[string, string]>) : []),
    [
      pending ? 'Deadline' : 'Resolved',
      pending ? `${formatTime(request.expiresAt)} (${summary.timeLeft}${summary.timeLeft.startsWith('the') ? '' : ' left'})` : formatTime(request.resolvedAt),
    ],
    ['Created', formatTime(request.createdAt)],
    ['Request id', html`<code>${request.id}</code>`],
  ];
  const decisions = request.decisions.map(
    (decision) => html`<tr><td>${input.reviewerById(decision.reviewer)?.name ?? decision.reviewer} (${decision.reviewer})</td>
<td data-label="Verdict">${decision.verdict === 'approve' ? 'approved' : 'denied'}${decision.argsHash === request.approvedArgsHash ? '' : ' (earlier args; no longer counts)'}</td>
<td data-label="When">${formatTime(decision.at)}</td><td data-label="Channel">${decision.channel}</td><td data-label="Comment">${revealHiddenCharacters(decision.comment ?? '')}</td></tr>\n`,
  );

  return renderLayout({
    title: `${summary.tool} · ${request.status}`,
    viewer: input.viewer,
    live: { kind: 'request', requestId: request.id },
    body: html`<p><a href="/inbox">← Waiting for you</a></p>
<h1><code>${summary.tool}</code> ${statusPill(request.status)}</h1>
${input.banner ? html`<p class="banner ${input.banner.tone}">${input.banner.message}</p>` : pending ? '' : outcomeBanner(request)}
<div class="card"><table class="facts">
${facts.map(([label, value]) => html`<tr><th>${label}</th><td>${value}</td></tr>\n`)}</table></div>
${summary.originalArgsText ? editDiff(request) : ''}
<div class="card"><h2>Args${summary.originalArgsText ? ' (as edited by a reviewer)' : ''}${summary.testedNote ? html` <span class="note">(${summary.testedNote})</span>` : ''}</h2><pre class="args">${summary.argsText}</pre>
${summary.originalArgsText ? html`<h2>The agent originally sent</h2><pre class="args">${summary.originalArgsText}</pre>` : ''}
${request.context && Object.keys(request.context).length ? html`<h2>Context</h2><pre class="args">${formatArgsForReview(request.context, testedPaths.filter((path) => path.startsWith('context.')).map((path) => `args.${path.slice('context.'.length)}`))}</pre>` : ''}</div>
<div class="card"><h2>Decisions</h2>${
      decisions.length
        ? html`<table class="rows"><tr class="head"><th>Reviewer</th><th>Verdict</th><th>When</th><th>Channel</th><th>Comment</th></tr>\n${decisions}</table>`
        : html`<p class="note">No reviewer has decided yet.</p>`
    }</div>
${pending ? decisionForms(input) : ''}
${input.auditTrail ? auditTrail(input.auditTrail, input.reviewerById) : ''}`,
  });
}

const EVENT_LABELS: Partial<Record<AuditEventType, string>> = {
  'request.created': 'Created',
  'request.approved': 'Approved',
  'request.denied': 'Denied',
  'request.expired': 'Expired',
  'request.requirements_changed': 'Requirements changed (args edited)',
  'request.refused': 'Create refused',
  'request.updated': 'Updated',
  'decision.recorded': 'Decision recorded',
  'decision.refused': 'Decision refused',
  'execution.claimed': 'Executed (approval claimed)',
  'execution.refused': 'Execution refused',
  'execution.reported': 'Execution reported',
  'access.refused': 'Access refused',
  'delivery.failed': 'Delivery failed',
  'state.tampered': 'Stored state did not match its audit log',
};
/** A detail value longer than this is cut in the trail; `signoff audit` prints it whole. */
const DETAIL_CHARS = 240;

/**
 * The request's audit log entries in sequence order — created, every decision, edits and
 * requirement changes, refusals, execution, expiry — each with when, who, through which channel
 * and its recorded facts (comment, reason, verdict, …), as the hash-chained log holds them.
 */
function auditTrail(entries: readonly AuditEntry[], reviewerById: (id: string) => Reviewer | undefined): SafeHtml {
  const rows = entries.map((entry) => {
    const who = reviewerById(entry.actor);
    const facts = Object.entries(entry.detail).map(([name, value]) => {
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
      // A sha256 is told apart by its first characters; the whole one is a hover (and `signoff audit`) away.
      if (/^[0-9a-f]{64}$/.test(text)) return html`<span><b>${name}</b> <code title="${text}">${text.slice(0, 12)}…</code></span>`;
      return html`<span><b>${name}</b> ${revealHiddenCharacters(text.length <= DETAIL_CHARS ? text : `${text.slice(0, DETAIL_CHARS - 1)}…`)}</span>`;
    });
    return html`<tr><td data-label="#">${entry.sequence}</td><td data-label="When">${formatTime(entry.at)}</td><td><b title="${entry.type}">${EVENT_LABELS[entry.type] ?? entry.type}</b></td>
<td data-label="Who" class="who">${who ? `${who.name} (${who.id})` : revealHiddenCharacters(entry.actor)}</td><td data-label="Channel">${entry.channel ?? ''}</td><td class="detail">${facts.map((fact, index) => (index === 0 ? fact : html`; ${fact}`))}</td></tr>\n`;
  });
  return html`<div class="card" id="audit-trail"><h2>Audit trail (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'})</h2>
<table class="rows trail"><tr class="head"><th>#</th><th>When</th><th>Event</th><th>Who</th><th>Channel</th><th>Details</th></tr>
${rows}</table>
<p class="note">From the hash-chained audit log, in order; <code>signoff audit verify</code> checks that none was edited, removed or reordered.</p></div>`;
}

/**
 * One form, one comment box, two buttons: the button pressed is the verdict. The hidden `argsHash`
 * is the hash of the args this page shows, so the server refuses a decision about args that
 * changed since; the args box is read only on approve.
 */
function decisionForms(input: RequestPageInput): SafeHtml {
  const { request, form } = input;
  const shownArgs = formatArgsForReview(request.approvedArgs, input.testedPaths ?? []);
  const argsText = form?.verdict === 'approve' && form.argsText !== undefined ? form.argsText : shownArgs;
  const editing = form?.verdict === 'approve' && form.argsText !== undefined && form.argsText !== shownArgs;
  return html`<form class="card decide" method="post" action="/inbox/requests/${request.id}/decide">
<input type="hidden" name="csrf" value="${input.decideToken}"><input type="hidden" name="argsHash" value="${request.approvedArgsHash}">
<h2>Your decision</h2>
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" rows="3" maxlength="1000">${form?.comment ?? ''}</textarea>
<details${editing ? html` open` : ''}><summary>Edit the args before approving</summary>
<p class="note">The server's policy re-checks edited args; an edit it denies is refused. Approvals given for the old args stop counting.</p>
<label for="approve-args">Args (JSON)</label>
<textarea id="approve-args" class="code" name="args" rows="12" spellcheck="false">${argsText}</textarea></details>
<div class="buttons"><button type="submit" name="verdict" value="approve" class="approve">Approve</button>
<button type="submit" name="verdict" value="deny" class="deny">Deny</button></div>
<p class="note">One denial denies the request: the tool will not run.</p>
</form>`;
}

/** A reviewer's edit as a diff against what the agent sent: one line per changed field. */
function editDiff(request: ApprovalRequest): SafeHtml {
  const changes = diffArgs(request.args, request.approvedArgs);
  const value = (text: string | undefined, tag: 'del' | 'ins') =>
    text === undefined ? html`<span class="note">${tag === 'del' ? '(not sent)' : '(removed)'}</span>` : tag === 'del' ? html`<del>${text}</del>` : html`<ins>${text}</ins>`;
  return html`<div class="card"><h2>Edited by a reviewer: ${changes.length} field${changes.length === 1 ? '' : 's'} changed from what the agent sent</h2>
<ul class="diff">${changes.map((change) => html`<li><code>${change.path}</code>: ${value(change.before, 'del')} → ${value(change.after, 'ins')}</li>\n`)}</ul></div>
`;
}

/** Who decided a resolved request, on top, so a page open while someone else decided says so. */
function outcomeBanner(request: ApprovalRequest): SafeHtml {
  const tone = request.status === 'approved' || request.status === 'executed' ? 'good' : request.status === 'denied' ? 'bad' : 'info';
  return html`<p class="banner ${tone} outcome">This request is ${request.status}: ${revealHiddenCharacters(request.resolution)}.</p>`;
}

/** What the quorum still needs: how many more approvals, and which roles nobody approving holds yet. */
function stillMissing(request: ApprovalRequest, approvers: readonly Reviewer[]): string {
  const { requiredApprovals, approverRoles } = request.requirements;
  const more = Math.max(0, requiredApprovals - new Set(approvers.map((approver) => approver.id)).size);
  const approvals = `${more} more approval${more === 1 ? '' : 's'}`;
  if (approverRoles.length === 0) return more ? `${approvals} from any reviewer` : 'nothing';
  if (requiredApprovals < approverRoles.length) return `${approvals} from reviewers holding one of: ${approverRoles.join(', ')}`;
  const uncovered = approverRoles.filter((role) => !approvers.some((approver) => approver.roles.includes(role)));
  return `${approvals}; roles not yet represented: ${uncovered.length ? uncovered.join(', ') : 'none (each role needs its own reviewer)'}`;
}
