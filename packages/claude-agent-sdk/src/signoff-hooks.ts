import type { HookCallbackMatcher, HookEvent, HookInput, HookJSONOutput, PreToolUseHookInput } from '@anthropic-ai/claude-agent-sdk';
import { checkApproval, SignoffError, type ApprovalRequest, type Decision, type Signoff } from '@signoff/core';
import { assertSupportedSdkVersion } from './assert-supported-sdk-version.js';

export interface SignoffHooksOptions {
  /**
   * How an escalated call waits. `'defer'` (default): the hook answers `defer`, the run ends with
   * `deferred_tool_use`, and `resumeWhenDecided` resumes the session once reviewers decide. `'wait'`:
   * the hook waits in-process up to `waitMs` and denies when no decision came — for interactive
   * sessions and turns with several tool calls, where Claude Code ignores `defer`.
   */
  readonly mode?: 'defer' | 'wait';
  /** Longest in-process wait in `'wait'` mode, kept well under the SDK's hook abort. Default 45 000 ms. */
  readonly waitMs?: number;
  /** Caller-supplied `context.…` for policy conditions (user, environment, …), fixed or per call. */
  readonly context?: Readonly<Record<string, unknown>> | ((input: PreToolUseHookInput) => Readonly<Record<string, unknown>>);
  /** Which tools the hook sees (the SDK's `matcher`, a tool-name regex). Default: every tool. */
  readonly matcher?: string;
}

const DEFAULT_WAIT_MS = 45_000;

/**
 * The SDK's `hooks` option with a `PreToolUse` hook that asks Signoff about every tool call: allow →
 * `allow`; deny → `deny` with the policy's reason (the model reads it); escalate → an approval request
 * (idempotent on session id + tool use id) and `defer`. On the resumed run the same hook answers from
 * the control plane's verdict alone: approved → the grant is claimed (single use) and the call is
 * allowed with the approved, possibly reviewer-edited, input; denied, expired or already used → deny;
 * still pending → defer again. Any failure (control plane down, bad answer) denies: the matcher is
 * registered with `onFailure: 'block'`, so even a hook that throws or times out runs nothing.
 *
 * @example
 * for await (const message of query({ prompt, options: { hooks: signoffHooks(signoff) } })) {
 *   if (message.type === 'result' && message.deferred_tool_use) saveForLater(message.session_id, message.deferred_tool_use.id);
 * }
 */
export function signoffHooks(signoff: Signoff, options: SignoffHooksOptions = {}): Partial<Record<HookEvent, HookCallbackMatcher[]>> {
  assertSupportedSdkVersion();
  const mode = options.mode ?? 'defer';
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;

  async function preToolUse(input: HookInput, _toolUseId: string | undefined, { signal }: { signal: AbortSignal }): Promise<HookJSONOutput> {
    if (input.hook_event_name !== 'PreToolUse') return {};
    const context = typeof options.context === 'function' ? options.context(input) : options.context;
    const decision = signoff.guard(input.tool_name, input.tool_input, context);
    if (decision.action === 'allow') return answer('allow', decision.reason);
    if (decision.action === 'deny') return answer('deny', decision.reason);
    try {
      const created = await signoff.requestApproval(decision, { idempotencyKey: approvalKey(input.session_id, input.tool_use_id), signal });
      if (created.status === 'pending' && mode === 'defer') return answer('defer', `Waiting for approval ${created.id}: ${decision.reason}`);
      const approval = created.status === 'pending' ? await signoff.waitForDecision(created.id, { timeoutMs: waitMs, signal }) : created;
      return await fromVerdict(approval, input);
    } catch (error) {
      return failClosed(decision, error);
    }
  }

  async function fromVerdict(approval: ApprovalRequest, input: PreToolUseHookInput): Promise<HookJSONOutput> {
    const check = checkApproval(approval, { tool: input.tool_name, args: input.tool_input });
    if (!check.granted) return answer('deny', check.reason);
    const grant = await signoff.claimExecution(approval);
    return answer('allow', approval.resolution, grant.args as Record<string, unknown>);
  }

  return { PreToolUse: [{ ...(options.matcher ? { matcher: options.matcher } : {}), hooks: [preToolUse], onFailure: 'block', timeout: Math.ceil(waitMs / 1000) + 15 }] };
}

/** The idempotency key of a tool call's approval request: one request per session and tool use. */
export function approvalKey(sessionId: string, toolUseId: string): string {
  return `claude:${sessionId}:${toolUseId}`;
}

function answer(permissionDecision: 'allow' | 'deny' | 'defer', reason: string, updatedInput?: Record<string, unknown>): HookJSONOutput {
  return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision, permissionDecisionReason: reason, ...(updatedInput ? { updatedInput } : {}) } };
}

/** The one place this adapter turns a failure into a deny, with the reason the model reads. */
function failClosed(decision: Decision, error: unknown): HookJSONOutput {
  const message = SignoffError.isInstance(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  return answer('deny', `Not run (fail-closed): ${message} (${decision.reason})`);
}
