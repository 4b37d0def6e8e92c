import type { ApprovalRequest } from '@signoff/core';

/** What a reviewer reads before deciding, as plain text (escape it for HTML). */
export interface RequestSummary {
  readonly tool: string;
  /** The args that an approval would let run, pretty-printed JSON, truncated past the limit. */
  readonly argsText: string;
  /** Set when a reviewer edited the args: the agent's original args, pretty-printed. */
  readonly originalArgsText: string | undefined;
  readonly reason: string;
  /** `payments-agent`, or `payments-agent on behalf of alice`. */
  readonly requestedBy: string;
  /** `2 approvals, covering every role: finance, security`. */
  readonly whoMustApprove: string;
  /** `1 of 2 approvals (ana)`: approvals of the current args. */
  readonly progress: string;
  /** ISO 8601. */
  readonly deadline: string;
  /** `29 minutes`, or `the deadline has passed`. */
  readonly timeLeft: string;
}

// Control and bidi-override characters could hide or reorder what a reviewer sees; show them as escapes.
const DECEPTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The facts a reviewer needs, shared by the email and the confirm page, so both say the same.
 *
 * @example
 * const summary = summarizeRequest(request, new Date(), 5_000);
 */
export function summarizeRequest(request: ApprovalRequest, now: Date, maxArgsChars: number): RequestSummary {
  const { requiredApprovals, approverRoles } = request.requirements;
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const describe = ({ requiredApprovals: count, approverRoles: roles }: { requiredApprovals: number; approverRoles: readonly string[] }) =>
    roles.length === 0
      ? `${plural(count, 'approval')} from any reviewer`
      : count >= roles.length
        ? `${plural(count, 'approval')}, covering every role: ${roles.join(', ')}`
        : `${plural(count, 'approval')} from reviewers holding one of: ${roles.join(', ')}`;
  // An edit under another rule keeps what the earlier rule needed: say both.
  const whoMustApprove = [describe({ requiredApprovals, approverRoles }), ...(request.alsoRequired ?? []).map((earlier) => `and ${describe(earlier)} (rule before an edit)`)].join('; ');
  const approvers = request.decisions
    .filter((decision) => decision.verdict === 'approve' && decision.argsHash === request.approvedArgsHash)
    .map((decision) => decision.reviewer);
  const edited = request.approvedArgsHash !== request.argsHash;
  return {
    tool: printable(request.tool),
    argsText: prettyJson(request.approvedArgs, maxArgsChars),
    originalArgsText: edited ? prettyJson(request.args, maxArgsChars) : undefined,
    reason: printable(request.reason),
    requestedBy: printable(request.onBehalfOf ? `${request.requester} on behalf of ${request.onBehalfOf}` : request.requester),
    whoMustApprove,
    progress: `${approvers.length} of ${requiredApprovals} approvals${approvers.length ? ` (${approvers.join(', ')})` : ''}`,
    deadline: request.expiresAt,
    timeLeft: describeTimeLeft(Date.parse(request.expiresAt) - now.getTime()),
  };
}

/** `29 minutes`, `5 h 10 min`, `3 days`. */
export function describeTimeLeft(milliseconds: number): string {
  if (milliseconds <= 0) return 'the deadline has passed';
  const minutes = Math.floor(milliseconds / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${Math.floor(minutes / 1440)} days`;
}

function prettyJson(value: unknown, maxChars: number): string {
  const text = printable(JSON.stringify(value, null, 2) ?? String(value));
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}\n… (${text.length - maxChars} more characters not shown)`;
}

function printable(text: string): string {
  return text.replace(DECEPTIVE, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
