import type { ApprovalVerdict } from './ask-for-approval.js';
import { answerToolCall } from './read-tool-call.js';
import type { ToolCallRecord, ToolHandlers } from './tool-call-record.js';

type CallIdentity = Pick<ToolCallRecord, 'api' | 'kind' | 'callId' | 'tool'>;

/**
 * Turns a call and what was decided about it into its record: runs the tool when the verdict grants
 * it (with the approved args), answers a refusal with its reason, or keeps the call pending. A tool
 * that throws becomes an answer too, so the loop never crashes on it.
 *
 * @example
 * const record = await settleToolCall(call, args, { kind: 'refused', reason: 'Payments over $100 need approval' }, tools);
 */
export async function settleToolCall(call: CallIdentity, args: unknown, verdict: ApprovalVerdict | { readonly kind: 'allowed'; readonly reason: string }, tools: ToolHandlers): Promise<ToolCallRecord> {
  const approvalId = verdict.kind === 'allowed' ? undefined : verdict.approval?.id;
  const base = { api: call.api, kind: call.kind, callId: call.callId, tool: call.tool, args, ...(approvalId ? { approvalId } : {}) };
  if (verdict.kind === 'pending') return { ...base, status: 'pending', reason: verdict.approval.reason };
  if (verdict.kind === 'refused') return answered(base, 'denied', verdict.reason, `Tool call denied: ${verdict.reason}`);
  const reason = verdict.kind === 'allowed' ? verdict.reason : verdict.approval.resolution;
  const handler = tools[call.tool];
  if (!handler) return answered(base, 'failed', `no tool named ${call.tool}`, `Tool call not run: there is no tool named ${call.tool}.`);
  try {
    const output = await handler(verdict.kind === 'allowed' ? args : verdict.args, { callId: call.callId, tool: call.tool });
    return answered(base, 'ran', reason, typeof output === 'string' ? output : (JSON.stringify(output) ?? ''));
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
