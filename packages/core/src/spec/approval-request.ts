import type { ApprovalRequirements } from './approval-requirements.js';
import type { ApprovalStatus } from './approval-status.js';
import type { ExecutionClaim } from './execution-claim.js';
import type { ReviewerDecision } from './reviewer-decision.js';

/**
 * An escalated tool call as the control plane stores it. The server evaluates the call against its
 * own copy of the policy; requirements come from there, never from the client.
 *
 * @example
 * const request: ApprovalRequest = await signoff.waitForDecision(id);
 * if (request.granted) await runTool(request.tool, request.approvedArgs);
 */
export interface ApprovalRequest {
  /** Server-assigned id (`apr_…`). */
  readonly id: string;
  /** The tool that was called. */
  readonly tool: string;
  /** The args as the agent sent them. */
  readonly args: unknown;
  /** sha256 of the canonical JSON of `args`. */
  readonly argsHash: string;
  /** Caller context the policy saw (agent, user, environment, …). */
  readonly context: Readonly<Record<string, unknown>> | undefined;
  /** The policy's reason, rendered. */
  readonly reason: string;
  /** The deciding rule, or `null` for the policy default. */
  readonly ruleId: string | null;
  /** Hash of the server policy that decided. */
  readonly policyHash: string;
  /** The principal (agent API key) that asked. */
  readonly requester: string;
  /** The user the agent acts for, if it said; they cannot approve it either. */
  readonly onBehalfOf: string | undefined;
  /** Who must approve, by when, and how long a grant lasts (timeoutMs and grantTtlMs resolved with the server defaults). */
  readonly requirements: ApprovalRequirements & { readonly timeoutMs: number; readonly grantTtlMs: number };
  /**
   * What the rules the request was under before a reviewer's edit required: an edit that moves the
   * call under another rule needs what both rules need, so approvals must satisfy these as well.
   * Absent unless an edit changed the deciding rule or its requirements.
   */
  readonly alsoRequired?: readonly ApprovalRequirements[];
  /** Extra reviewers or roles the agent asked to notify; never lowers the requirements. */
  readonly notify: readonly string[];
  /** Current state. */
  readonly status: ApprovalStatus;
  /** Whether the call was granted: approved, or expired with `timeoutAction: allow` (stays true once `executed`). */
  readonly granted: boolean;
  /** The args that may run when granted: the reviewers' edited args, or the original ones. */
  readonly approvedArgs: unknown;
  /** sha256 of `approvedArgs`. */
  readonly approvedArgsHash: string;
  /** Reviewers' verdicts so far, in order. */
  readonly decisions: readonly ReviewerDecision[];
  /** Why it reached its terminal state (or why it is pending). */
  readonly resolution: string;
  /** ISO 8601 timestamps. */
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly resolvedAt: string | undefined;
  /** The agent's key for replays: the same (requester, key) returns the same request. */
  readonly idempotencyKey: string | undefined;
  /** Where to POST the outcome (signed), if the agent gave one. */
  readonly callbackUrl: string | undefined;
  /** The single use of the grant, once the agent claimed it (status `executed`). */
  readonly execution?: ExecutionClaim;
}
