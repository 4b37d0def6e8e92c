import type { ApprovalStatus } from '@signoff/core';

/**
 * The value `signoffMiddleware` passes to LangGraph's `interrupt()` when a tool call escalates.
 * It is what a UI shows while the run is paused: which call, why, who must approve, and where.
 * One interrupt per tool call, so parallel calls are decided independently.
 *
 * @example
 * const result = await agent.invoke({ messages }, config);
 * for (const pause of result.__interrupt__ ?? []) {
 *   if (isSignoffInterrupt(pause.value)) console.log(`${pause.value.tool} waits for ${pause.value.approvalId}`);
 * }
 */
export interface SignoffInterrupt {
  /** Discriminator: tells Signoff's pauses apart from other interrupts in the same graph. */
  readonly type: 'signoff.approval';
  /** The control plane's request id (`apr_…`). */
  readonly approvalId: string;
  /** The tool that was called. */
  readonly tool: string;
  /** The args the model asked for (reviewers may approve edited ones). */
  readonly args: unknown;
  /** The model's tool call id; with the thread id it is the request's idempotency key. */
  readonly toolCallId: string;
  /** The policy's reason for asking. */
  readonly reason: string;
  /** Distinct reviewers who must approve (the control plane's requirement). */
  readonly requiredApprovals: number;
  /** Roles a reviewer must hold; empty means any reviewer. */
  readonly approverRoles: readonly string[];
  /** When the request times out and its `timeoutAction` applies (ISO 8601). */
  readonly expiresAt: string;
  /** Where a reviewer decides, when `inboxUrl` was configured. */
  readonly inboxUrl: string | undefined;
}

/**
 * What `resumeWhenDecided` resumes each Signoff interrupt with. It is only a hint for logs and
 * UIs: the gate re-reads the approval from the control plane and never trusts this value.
 *
 * @example
 * await agent.invoke(new Command({ resume: { [interruptId]: { approvalId, status: 'approved' } satisfies SignoffResume } }), config);
 */
export interface SignoffResume {
  readonly approvalId: string;
  readonly status: ApprovalStatus;
}

/**
 * Whether an interrupt value is one of Signoff's.
 *
 * @example
 * const pending = state.tasks.flatMap((task) => task.interrupts).filter((pause) => isSignoffInterrupt(pause.value));
 */
export function isSignoffInterrupt(value: unknown): value is SignoffInterrupt {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'signoff.approval' && typeof (value as { approvalId?: unknown }).approvalId === 'string';
}
