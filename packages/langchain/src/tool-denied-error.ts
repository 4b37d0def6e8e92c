import { SignoffError, type ApprovalRequest, type Authorization } from '@signoff/core';

const marker = Symbol.for('signoff.error.tool-denied');

/**
 * Thrown by a tool wrapped with `wrapTool`, in blocking mode (outside a graph run), when Signoff
 * does not let the call run: the policy denied it, reviewers denied it, it expired, its approval
 * was already used (`errorCode: 'ALREADY_EXECUTED'`), or the control plane could not be reached
 * (fail-closed; `errorCode` says which infrastructure failure). Code `APPROVAL_DENIED`. In a graph
 * run, refusals are error `ToolMessage`s instead.
 *
 * @example
 * try { await guardedSendPayment.invoke({ to: 'acme', amount: 500 }); } catch (error) {
 *   if (ToolDeniedError.isInstance(error)) console.log(`${error.tool} refused: ${error.reason}`);
 * }
 */
export class ToolDeniedError extends SignoffError {
  readonly [marker] = true;
  /** The tool that was refused. */
  readonly tool: string;
  /** The args it was called with. */
  readonly args: unknown;
  /** The policy's reason, the reviewers' resolution, or the failure that closed the call. */
  readonly reason: string;
  /** The control plane's request, when one was made. */
  readonly approval: ApprovalRequest | undefined;
  /** Set when an infrastructure failure closed the call. */
  readonly errorCode: Authorization['errorCode'];

  constructor(authorization: Authorization) {
    super('APPROVAL_DENIED', `${authorization.decision.tool} was not run: ${authorization.reason}`);
    this.name = 'ToolDeniedError';
    this.tool = authorization.decision.tool;
    this.args = authorization.decision.args;
    this.reason = authorization.reason;
    this.approval = authorization.approval;
    this.errorCode = authorization.errorCode;
  }

  static override isInstance(error: unknown): error is ToolDeniedError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
