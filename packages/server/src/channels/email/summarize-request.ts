import { formatTime } from '../format-time.js';
import type { ApprovalRequest } from '@signoff/core';
import { formatArgsForReview } from '../format-args-for-review.js';
import { revealHiddenCharacters } from '../reveal-hidden-characters.js';

/** What a reviewer reads before deciding, as plain text (escape it for HTML). */
export interface RequestSummary {
  readonly tool: string;
  /** The args that an approval would let run, pretty-printed JSON (tested fields first), truncated past the limit. */
  readonly argsText: string;
  /** Whether `argsText` holds the args whole: only then may the page offer Approve. */
  readonly argsWhole: boolean;
  /** The args fields the deciding rule tested (`amount`, `payee.iban`), shown first. */
  readonly testedFields: readonly string[];
  /** `amount, to first: rule big-payments checks them`, to put after the Args heading; undefined when no field was tested. */
  readonly testedNote: string | undefined;
  /** Set when a reviewer edited the args: the agent's original args, pretty-printed. */
  readonly originalArgsText: string | undefined;
  readonly reason: string;
  /** `payments-agent`, or `payments-agent on behalf of alice`. */
  readonly requestedBy: string;
  /** `2 approvals, covering every role: finance, security`. */
  readonly whoMustApprove: string;
  /** `1 of 2 approvals (ana)`: approvals of the current args. */
  readonly progress: string;
  /** `2026-11-24 06:30 UTC`: readable, and unambiguous whatever the reader's time zone. */
  readonly deadline: string;
  /** `29 minutes`, or `the deadline has passed`. */
  readonly timeLeft: string;
}

export interface SummarizeOptions {
  readonly now: Date;
  /** The most args characters the page shows; longer args are cut and `argsWhole` is false. */
  readonly maxArgsChars: number;
  /** The paths the deciding rule tested (see `createTestedPathsLookup`); those args come first. */
  readonly testedPaths?: readonly string[];
}

/**
 * The facts a reviewer needs, shared by Slack, the email, its confirm page and the inbox, so all
 * say the same. Agent-supplied text has its hidden and direction-changing characters escaped.
 *
 * @example
 * const summary = summarizeRequest(request, { now: new Date(), maxArgsChars: 5_000, testedPaths: ['args.amount'] });
 */
export function summarizeRequest(request: ApprovalRequest, options: SummarizeOptions): RequestSummary {
  const { now, maxArgsChars } = options;
  const testedPaths = options.testedPaths ?? [];
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
  const args = formatArgsForReview(request.approvedArgs, testedPaths);
  const testedFields = testedPaths.filter((path) => path.startsWith('args.')).map((path) => path.slice('args.'.length));
  return {
    tool: revealHiddenCharacters(request.tool),
    argsText: clipArgs(args, maxArgsChars),
    argsWhole: args.length <= maxArgsChars,
    testedFields,
    testedNote: testedFields.length ? `${testedFields.join(', ')} first: rule ${request.ruleId ?? ''} checks ${testedFields.length === 1 ? 'it' : 'them'}` : undefined,
    originalArgsText: edited ? clipArgs(formatArgsForReview(request.args, testedPaths), maxArgsChars) : undefined,
    reason: revealHiddenCharacters(request.reason),
    requestedBy: revealHiddenCharacters(request.onBehalfOf ? `${request.requester} on behalf of ${request.onBehalfOf}` : request.requester),
    whoMustApprove,
    progress: `${approvers.length} of ${requiredApprovals} approvals${approvers.length ? ` (${approvers.join(', ')})` : ''}`,
    deadline: formatTime(request.expiresAt),
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

function clipArgs(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // Never split a surrogate pair or an escape.
  const kept = text.slice(0, maxChars).replace(/[\ud800-\udbff]$|\\u[0-9a-f]{0,3}$/, '');
  return `${kept}\n… (${text.length - kept.length} more characters not shown)`;
}
