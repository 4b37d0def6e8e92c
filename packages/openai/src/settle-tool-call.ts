import type { Signoff } from '@signoff/core';
import type { ApprovalVerdict } from './ask-for-approval.js';
import { answerToolCall } from './read-tool-call.js';
import { runClaimed } from './run-claimed.js';
import { toolHandler, type ToolCallRecord, type ToolHandlers } from './tool-call-record.js';

type CallIdentity = Pick<ToolCallRecord, 'api' | 'kind' | 'callId' | 'tool'>;

export interface SettleOptions {
  readonly signoff: Signoff;
  readonly tools: ToolHandlers;
  /** Caller facts for the policy; default for an escalated call: the context its request was made with. */
  readonly context?: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal;
}

/**
 * The raw loops' tool-level gate — the only code that runs a handler. An allowed call runs as it is.
 * An escalated call runs only when, at this moment, the local policy does not deny it, the control
 * plane's approval covers this tool and these args (checked before it gets here), and the grant is
 * claimed (`runClaimed`): the handler then gets the claimed args, once. A refusal is answered with
 * its reason; a still-pending call stays pending; a handler that throws becomes an answer too.
 *
 * @example
 * const record = await settleToolCall(call, args, { kind: 'refused', reason: 'Payments over $100 need approval' }, { signoff, tools });
 */
export async function settleToolCall(
  call: CallIdentity,
  args: unknown,
  verdict: ApprovalVerdict | { readonly kind: 'allowed'; readonly reason: string },
  options: SettleOptions,
): Promise<ToolCallRecord> {
  const approvalId = verdict.kind === 'allowed' ? undefined : verdict.approval?.id;
  const base = { api: call.api, kind: call.kind, callId: call.callId, tool: call.tool, args, ...(approvalId ? { approvalId } : {}) };
  if (verdict.kind === 'pending') return { ...base, status: 'pending', reason: verdict.approval.reason };
  if (verdict.kind === 'refused') return answered(base, 'denied', verdict.reason, `Tool call denied: ${verdict.reason}`);
  const handler = toolHandler(options.tools, call.tool);
  if (!handler) return answered(base, 'failed', `no tool named ${call.tool}`, `Tool call not run: there is no tool named ${call.tool}.`);
  const run = async (runArgs: unknown): Promise<string> => {
    const output = await handler(runArgs, { callId: call.callId, tool: call.tool });
    return typeof output === 'string' ? output : (JSON.stringify(output) ?? '');
  };
  try {
    if (verdict.kind === 'allowed') return answered(base, 'ran', verdict.reason, await run(args));
    // A stored state may be old or edited: decide again before an escalated call uses its grant.
    const decision = options.signoff.guard(call.tool, args, options.context ?? verdict.approval.context);
    if (decision.action === 'deny') return answered(base, 'denied', decision.reason, `Tool call denied: ${decision.reason}`);
    const ran = await runClaimed(options.signoff, verdict.approval, run, options.signal);
    if (ran.kind === 'refused') return answered(base, 'denied', ran.reason, `Tool call denied: ${ran.reason}`);
    return answered(base, 'ran', verdict.approval.resolution, ran.output);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return answered(base, 'failed', message, `Tool call failed: ${message}`);
  }
}

/** A call answered without consulting the policy: unreadable arguments or an unknown tool. */
export function rejectToolCall(call: CallIdentity, args: unknown, reason: string): ToolCallRecord {
  return answered({ api: call.api, kind: call.kind, callId: call.callId, tool: call.tool, args }, 'failed', reason, `Tool call not run: ${reason}.`);
}

function answered(base: Omit<ToolCallRecord, 'status' | 'reason'>, status: ToolCallRecord['status'], reason: string, output: string): ToolCallRecord {
  return { ...base, status, reason, answer: answerToolCall(base, output) };
}
