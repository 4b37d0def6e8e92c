import { query, type Options, type Query, type SDKMessage, type SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import { SignoffError, type ApprovalRequest, type Signoff } from '@signoff/core';
import { carryApproval } from './carried-approvals.js';
import { approvalKey } from './signoff-hooks.js';

export interface ResumeWhenDecidedOptions {
  readonly signoff: Signoff;
  /** The deferred run's `session_id` (from its result message). */
  readonly sessionId: string;
  /** The deferred tool use's id (`result.deferred_tool_use.id`). */
  readonly toolUseId: string;
  /** The SDK options to resume with: the same `hooks: signoffHooks(…)`, `cwd`, `env`, tools as the first run. */
  readonly options: Options;
  readonly signal?: AbortSignal;
  /** Stop waiting after this long with `APPROVAL_EXPIRED`; the session stays deferred. Default: the request's own deadline. */
  readonly timeoutMs?: number;
  /**
   * The call was refused in its turn instead of deferred (it shared the turn with other tool calls:
   * it is in the result's `permission_denials`, not `deferred_tool_use`). The session is then resumed
   * with `retry` as the prompt (`true`: a default one) asking the model to make the same call again;
   * the hook matches that identical call (same session, tool and input) to this approval. Default: deferred.
   */
  readonly retry?: boolean | string;
}

const RETRY_PROMPT = 'The approval you were waiting for has been decided. Make the same tool call again, with exactly the same input.';

/**
 * Waits (long-poll) until the control plane decides the deferred call, then resumes the session
 * (`resume: sessionId`) and yields the resumed run's messages. The resumed run calls the PreToolUse
 * hook again, which answers from the control plane alone: approved → runs once with the approved
 * input; denied or expired → the model reads why. Works from a new process: it needs only the two
 * ids and the same session storage (`CLAUDE_CONFIG_DIR`, `cwd`). Resuming twice runs nothing twice:
 * a used approval throws `ALREADY_EXECUTED` before any resume, and a resume racing another is
 * refused by the single-use claim (the hook denies with "already used").
 *
 * The resume sends no new prompt: the input stream stays open until the first result, so the hooks
 * are registered before Claude Code replays the deferred call (a closed, empty input can race them).
 *
 * @example
 * for await (const message of resumeWhenDecided({ signoff, sessionId, toolUseId, options: { hooks: signoffHooks(signoff) } })) {
 *   if (message.type === 'result') console.log(message.result);
 * }
 */
export async function* resumeWhenDecided(resumeOptions: ResumeWhenDecidedOptions): AsyncGenerator<SDKMessage, void> {
  const { signoff, sessionId, toolUseId, signal } = resumeOptions;
  const approval: ApprovalRequest | undefined = await signoff.findApproval(approvalKey(sessionId, toolUseId), signal);
  if (!approval) throw new SignoffError('INVALID_ARGUMENT', `resumeWhenDecided: no approval request for tool use ${toolUseId} in session ${sessionId}`);
  // Used already: its call ran (or was claimed) in an earlier resume; the session holds no deferred call to replay.
  if (approval.status === 'executed') throw new SignoffError('ALREADY_EXECUTED', `approval ${approval.id} was already used; an approval runs its call once`);
  if (approval.status === 'pending') {
    await signoff.waitForDecision(approval.id, { ...(signal ? { signal } : {}), ...(resumeOptions.timeoutMs === undefined ? {} : { timeoutMs: resumeOptions.timeoutMs }) });
  }
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const retry = resumeOptions.retry === true ? RETRY_PROMPT : resumeOptions.retry || undefined;
  if (retry) carryApproval(sessionId, approval.tool, approval.args, approvalKey(sessionId, toolUseId));
  async function* heldOpen(): AsyncGenerator<SDKUserMessage, void> {
    if (retry) yield { type: 'user', message: { role: 'user', content: retry }, parent_tool_use_id: null };
    await released;
  }
  const abortController = new AbortController();
  const onAbort = (): void => abortController.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const run: Query = query({ prompt: heldOpen(), options: { ...resumeOptions.options, resume: sessionId, ...(signal ? { abortController } : {}) } });
  try {
    for await (const message of run) {
      if (message.type === 'result') release();
      yield message;
    }
  } finally {
    release();
    signal?.removeEventListener('abort', onAbort);
  }
}
