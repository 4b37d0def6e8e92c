import type { CanUseTool, HookCallbackMatcher, HookEvent, HookInput, HookJSONOutput, PermissionMode, PermissionResult, PreToolUseHookInput } from '@anthropic-ai/claude-agent-sdk';
import { checkApproval, SignoffError, type ApprovalRequest, type Signoff } from '@signoff/core';
import { assertSupportedSdkVersion } from './assert-supported-sdk-version.js';
import { takeCarriedApproval } from './carried-approvals.js';

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

export interface SignoffOptionsOptions extends Omit<SignoffHooksOptions, 'matcher'> {
  /**
   * The `permissionMode` your `query` options use. `'bypassPermissions'` is refused
   * (`CONFIG_INVALID`): Claude Code never calls `canUseTool` then, so the backstop could not run.
   */
  readonly permissionMode?: PermissionMode;
}

/** What `signoffOptions` returns: spread it into the SDK's `query` options. */
export interface SignoffQueryOptions {
  readonly hooks: Partial<Record<HookEvent, HookCallbackMatcher[]>>;
  readonly canUseTool: CanUseTool;
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
 * Beside it, an ask floor answers `ask` for the deferred calls: when Claude Code drops a `defer`
 * (several calls in the message, interactive sessions) the call then needs `canUseTool` — refused
 * without one. Prefer `signoffOptions`, which adds the `canUseTool` that answers from the control plane.
 *
 * @example
 * for await (const message of query({ prompt, options: { hooks: signoffHooks(signoff) } })) {
 *   if (message.type === 'result' && message.deferred_tool_use) saveForLater(message.session_id, message.deferred_tool_use.id);
 * }
 */
export function signoffHooks(signoff: Signoff, options: SignoffHooksOptions = {}): Partial<Record<HookEvent, HookCallbackMatcher[]>> {
  return createSignoffGate(signoff, options).hooks;
}

/**
 * The recommended setup: `{ hooks, canUseTool }` to spread into the SDK's `query` options. The hooks
 * are `signoffHooks`; `canUseTool` is the backstop for every case where Claude Code does not honour
 * the hook's `defer` (interactive sessions) and asks for permission instead: it answers from the
 * control plane alone, exactly like a resumed run (approved → claimed once, allowed with the approved
 * input; pending, denied, expired, used or unreachable → deny with the reason). A call is claimed
 * once: when the hook claimed it already, `canUseTool` allows that same grant without claiming again.
 *
 * @example
 * const options = { cwd, permissionMode: 'default' as const, ...signoffOptions(signoff, { permissionMode: 'default' }) };
 * for await (const message of query({ prompt, options })) console.log(message);
 */
export function signoffOptions(signoff: Signoff, options: SignoffOptionsOptions = {}): SignoffQueryOptions {
  if (options.permissionMode === 'bypassPermissions') {
    throw new SignoffError(
      'CONFIG_INVALID',
      "signoffOptions: permissionMode 'bypassPermissions' skips canUseTool, so escalated calls that Claude Code does not pause would have no backstop; use 'default'",
    );
  }
  const gate = createSignoffGate(signoff, options);
  return { hooks: gate.hooks, canUseTool: gate.canUseTool };
}

function createSignoffGate(signoff: Signoff, options: SignoffHooksOptions): SignoffQueryOptions & { hooks: Partial<Record<HookEvent, HookCallbackMatcher[]>> } {
  assertSupportedSdkVersion();
  const mode = options.mode ?? 'defer';
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  // Escalated tool uses the hook saw in this process: their approval's key, and the grant once claimed.
  const escalated = new Map<string, { idempotencyKey: string; grantedInput?: Record<string, unknown> }>();

  // What the main hook answered, per tool use, for the ask floor (the two run side by side).
  const answered = new Map<string, { promise: Promise<HookJSONOutput>; resolve: (output: HookJSONOutput) => void }>();
  function answerOf(toolUseId: string): { promise: Promise<HookJSONOutput>; resolve: (output: HookJSONOutput) => void } {
    let entry = answered.get(toolUseId);
    if (!entry) {
      let resolve: (output: HookJSONOutput) => void = () => undefined;
      const promise = new Promise<HookJSONOutput>((settle) => (resolve = settle));
      entry = { promise, resolve };
      answered.set(toolUseId, entry);
    }
    return entry;
  }

  async function preToolUse(input: HookInput, toolUseId: string | undefined, context: { signal: AbortSignal }): Promise<HookJSONOutput> {
    if (input.hook_event_name !== 'PreToolUse') return {};
    let output: HookJSONOutput = answer('deny', 'Not run (fail-closed): the Signoff hook did not answer');
    try {
      output = await decide(input, context.signal);
      return output;
    } finally {
      answerOf(toolUseId ?? input.tool_use_id).resolve(output);
    }
  }

  /**
   * The ask floor. Claude Code drops a `defer` it cannot honour (a turn with several tool calls, an
   * interactive session) and runs the call through its own permission flow, which auto-allows tools
   * such as `Read` and anything in `allowedTools`. A hook's `ask`, given beside the `defer`, survives
   * that: the call then must be answered by `canUseTool` (the backstop), and without one it is denied.
   * When the `defer` is honoured, it wins and this `ask` is never used.
   */
  async function askFloor(input: HookInput, toolUseId: string | undefined, { signal }: { signal: AbortSignal }): Promise<HookJSONOutput> {
    if (input.hook_event_name !== 'PreToolUse') return {};
    const id = toolUseId ?? input.tool_use_id;
    const aborted = new Promise<HookJSONOutput>((resolve) => signal.addEventListener('abort', () => resolve(answer('deny', 'aborted')), { once: true }));
    const main = await Promise.race([answerOf(id).promise, aborted]);
    answered.delete(id);
    const decisionOfMain = 'hookSpecificOutput' in main && main.hookSpecificOutput?.hookEventName === 'PreToolUse' ? main.hookSpecificOutput.permissionDecision : undefined;
    return decisionOfMain === 'defer' ? answer('ask', 'Signoff: this call is waiting for approval; only the control plane can let it run') : {};
  }

  async function decide(input: PreToolUseHookInput, signal: AbortSignal): Promise<HookJSONOutput> {
    const context = typeof options.context === 'function' ? options.context(input) : options.context;
    const decision = signoff.guard(input.tool_name, input.tool_input, context, { callId: approvalKey(input.session_id, input.tool_use_id) });
    if (decision.action === 'allow') return answer('allow', decision.reason);
    if (decision.action === 'deny') return answer('deny', decision.reason);
    const idempotencyKey = takeCarriedApproval(input.session_id, input.tool_name, input.tool_input) ?? approvalKey(input.session_id, input.tool_use_id);
    escalated.set(input.tool_use_id, { idempotencyKey });
    try {
      const created = await signoff.requestApproval(decision, { idempotencyKey, signal });
      if (created.status === 'pending' && mode === 'defer') return answer('defer', `Waiting for approval ${created.id}: ${decision.reason}`);
      const approval = created.status === 'pending' ? await signoff.waitForDecision(created.id, { timeoutMs: waitMs, signal }) : created;
      const result = await fromVerdict(approval, input.tool_use_id, input.tool_name, input.tool_input);
      return result.behavior === 'allow' ? answer('allow', approval.resolution, result.updatedInput) : answer('deny', result.message);
    } catch (error) {
      return answer('deny', failClosed(decision.reason, error));
    }
  }

  /** The one verdict path, shared by the resumed hook and the backstop: check, claim once, allow the approved input. */
  async function fromVerdict(approval: ApprovalRequest, toolUseId: string, tool: string, args: unknown): Promise<PermissionResult> {
    const check = checkApproval(approval, { tool, args });
    if (!check.granted) return { behavior: 'deny', message: check.reason };
    const grant = await signoff.claimExecution(approval);
    const grantedInput = grant.args as Record<string, unknown>;
    escalated.set(toolUseId, { idempotencyKey: approval.idempotencyKey ?? '', grantedInput });
    return { behavior: 'allow', updatedInput: grantedInput };
  }

  const canUseTool: CanUseTool = async (toolName, input, { toolUseID, signal }) => {
    const seen = escalated.get(toolUseID);
    escalated.delete(toolUseID); // asked once per call; a re-issued call comes with a new tool use id
    // The hook claimed this very call already: allow that grant, never claim twice.
    if (seen?.grantedInput) return { behavior: 'allow', updatedInput: seen.grantedInput };
    if (!seen) {
      // Not escalated by the hook in this process: the policy answers; an escalation the hook never saw is refused.
      const decision = signoff.guard(toolName, input, typeof options.context === 'function' ? undefined : options.context);
      if (decision.action === 'allow') return { behavior: 'allow', updatedInput: input };
      return { behavior: 'deny', message: decision.action === 'deny' ? decision.reason : `Not run: ${decision.reason} (escalated call without an approval request)` };
    }
    try {
      const approval = await signoff.findApproval(seen.idempotencyKey, signal);
      if (!approval) return { behavior: 'deny', message: `Not run: no approval request for this call (${seen.idempotencyKey})` };
      return await fromVerdict(approval, toolUseID, toolName, input);
    } catch (error) {
      return { behavior: 'deny', message: failClosed(`${toolName} call ${toolUseID}`, error) };
    }
  };

  return {
    hooks: { PreToolUse: [{ ...(options.matcher ? { matcher: options.matcher } : {}), hooks: [preToolUse, askFloor], onFailure: 'block', timeout: Math.ceil(waitMs / 1000) + 15 }] },
    canUseTool,
  };
}

/** The idempotency key of a tool call's approval request: one request per session and tool use. */
export function approvalKey(sessionId: string, toolUseId: string): string {
  return `claude:${sessionId}:${toolUseId}`;
}

function answer(permissionDecision: 'allow' | 'deny' | 'defer' | 'ask', reason: string, updatedInput?: Record<string, unknown>): HookJSONOutput {
  return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision, permissionDecisionReason: reason, ...(updatedInput ? { updatedInput } : {}) } };
}

/** The one place this adapter turns a failure into a deny reason, the one the model reads. */
function failClosed(what: string, error: unknown): string {
  const message = SignoffError.isInstance(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  return `Not run (fail-closed): ${message} (${what})`;
}
