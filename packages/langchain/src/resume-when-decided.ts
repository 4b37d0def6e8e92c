import type { RunnableConfig } from '@langchain/core/runnables';
import { Command, type StateSnapshot } from '@langchain/langgraph';
import { SignoffError, type Signoff } from '@signoff/core';
import { isSignoffInterrupt, type SignoffResume } from './signoff-interrupt.js';
import { signoffClientOf } from './signoff-middleware.js';

/** The parts of a `createAgent` agent (or a compiled graph's wrapper) this helper uses. */
export interface ResumableAgent<TResult> {
  readonly graph: { getState(config: RunnableConfig): Promise<StateSnapshot> };
  readonly options?: { readonly middleware?: readonly unknown[] };
  invoke(input: Command, config?: RunnableConfig): Promise<TResult>;
}

export interface ResumeWhenDecidedOptions {
  /** The client to wait with; default: the one given to the agent's `signoffMiddleware`. */
  readonly signoff?: Signoff;
  readonly signal?: AbortSignal;
  /** Stop waiting after this long with `APPROVAL_EXPIRED`; the thread stays paused. Default: each request's own deadline. */
  readonly timeoutMs?: number;
}

/**
 * Finds the thread's pending Signoff interrupts, long-polls the control plane until each is decided,
 * and resumes the run with `Command({ resume })` keyed by interrupt id. Works from a fresh process
 * when the agent uses a durable checkpointer (SQLite, Postgres): everything it needs is in the
 * checkpoint and on the control plane. Resumes once; a later escalation in the same run pauses
 * again (`result.__interrupt__`), so loop while it does. Interrupts that are not Signoff's are left
 * pending. With nothing to resume it returns the thread's current values. Safe to call more than
 * once for the same pause (a webhook delivered twice, two workers at once, a restored checkpoint):
 * each approval is claimed once, so its call runs once and later resumes read "already used".
 *
 * @example
 * const config = { configurable: { thread_id: 'order-42' } };
 * let result = await agent.invoke({ messages }, config);
 * while (result.__interrupt__?.length) result = await resumeWhenDecided(agent, config);
 */
export async function resumeWhenDecided<TResult>(agent: ResumableAgent<TResult>, config: RunnableConfig, options: ResumeWhenDecidedOptions = {}): Promise<TResult> {
  const signoff = options.signoff ?? agent.options?.middleware?.map(signoffClientOf).find((client) => client !== undefined);
  if (!signoff) throw new SignoffError('INVALID_ARGUMENT', 'resumeWhenDecided: the agent has no signoffMiddleware; pass { signoff }');
  const state = await agent.graph.getState(config);
  const pending = state.tasks.flatMap((task) => task.interrupts).flatMap(({ id, value }) => (id !== undefined && isSignoffInterrupt(value) ? [{ id, approvalId: value.approvalId }] : []));
  if (pending.length === 0) return state.values as TResult;
  const waitOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) };
  const resume = Object.fromEntries(
    await Promise.all(
      pending.map(async ({ id, approvalId }) => {
        const approval = await signoff.waitForDecision(approvalId, waitOptions);
        return [id, { approvalId, status: approval.status } satisfies SignoffResume] as const;
      }),
    ),
  );
  return agent.invoke(new Command({ resume }), { ...config, ...(options.signal ? { signal: options.signal } : {}) });
}
