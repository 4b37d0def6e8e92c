import type { Signoff } from '@signoff/core';
import type { ModelMessage, ToolSet } from 'ai';
import type { SignoffAiSdkOptions } from './get-tool-call-verdict.js';
import { resolveApprovals, type ResolveApprovalsOptions, type ResolvedApprovals } from './resolve-approvals.js';
import { signoffToolApproval, type SignoffToolApproval } from './signoff-tool-approval.js';
import { withSignoff, type SignoffTools, type WithSignoffOptions } from './with-signoff.js';

/**
 * The three parts of the recommended setup, bound to one Signoff client and one set of options,
 * so the pause (`toolApproval`), the last gate (`tools`) and the resume (`resolveApprovals`) derive
 * the same idempotency keys by construction: a second, differently keyed request cannot happen.
 *
 * @example
 * const ai = createSignoffAiSdk(signoff, { idempotencyKey: (call) => `${chatId}:${call.toolCallId}` });
 * const result = await generateText({ model, messages, tools: ai.tools(tools), toolApproval: ai.toolApproval });
 * const { messages: resumed, pending } = await ai.resolveApprovals(messages, { wait: true });
 */
export function createSignoffAiSdk(signoff: Signoff, options: SignoffAiSdkOptions = {}) {
  const toolApproval: SignoffToolApproval = signoffToolApproval(signoff, options);
  return {
    /** `toolApproval` for `generateText`, `streamText` and `ToolLoopAgent`: pauses escalated calls. */
    toolApproval,
    /** Wraps your tools: each `execute` re-decides, claims the approval once and runs the approved args. Default `wait: false` (the pause flow). */
    tools: <TOOLS extends ToolSet>(tools: TOOLS, toolOptions: Pick<WithSignoffOptions, 'wait'> = {}): SignoffTools<TOOLS> =>
      withSignoff(tools, signoff, { ...options, wait: toolOptions.wait ?? false }),
    /** Appends the control plane's verdicts to a paused history, ready for the next call. */
    resolveApprovals: (messages: readonly ModelMessage[], resolveOptions: Omit<ResolveApprovalsOptions, keyof SignoffAiSdkOptions> = {}): Promise<ResolvedApprovals> =>
      resolveApprovals(messages, signoff, { ...options, ...resolveOptions }),
  };
}

export type SignoffAiSdk = ReturnType<typeof createSignoffAiSdk>;
