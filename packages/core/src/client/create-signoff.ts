import { randomUUID } from 'node:crypto';
import { createGuard, type Guard, type GuardCallOptions } from '../guard/create-guard.js';
import { compilePolicy } from '../policy/compile-policy.js';
import { createCallReporter, type CallReporterOptions } from './call-reporter.js';
import { hashArgs } from '../hash-args.js';
import { SignoffError, type SignoffErrorCode } from '../errors/signoff-error.js';
import type { ApprovalRequest } from '../spec/approval-request.js';
import type { Decision } from '../spec/decision.js';
import type { Policy } from '../spec/policy.js';
import { checkApproval } from './check-approval.js';
import { sleep } from './sleep.js';
import { createControlPlaneClient, type ControlPlaneOptions } from './control-plane-client.js';

export interface SignoffOptions {
  /** The local policy copy for `guard()`: a Policy, a path, or YAML text. The server keeps its own and is the authority. */
  readonly policy: Policy | string | URL;
  readonly controlPlane: ControlPlaneOptions;
  /**
   * When the policy has history conditions or shadow rules, calls `guard()` allows are reported to
   * the control plane in batches (`POST /v1/calls`) so its aggregates count them. Tune the batching
   * here, or `false` to report nothing (aggregates then see only calls the control plane decided).
   * A policy without them reports nothing whatever this says.
   */
  readonly reportCalls?: CallReporterOptions | false;
}

/** The approval guide's own call shape; `requestId` is the decision's receipt id. */
export interface GuideApprovalRequest {
  readonly requestId?: string;
  readonly tool: string;
  readonly args: unknown;
  readonly reason?: string;
  /** Reviewer ids or roles to notify as well; never lowers what the policy requires. */
  readonly reviewers?: readonly string[];
  readonly context?: Readonly<Record<string, unknown>>;
}

export interface RequestApprovalOptions {
  /** Replays with the same key return the same request (adapters use thread/run id + tool call id). Defaults to the receipt id. */
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal;
  readonly callbackUrl?: string;
  /** The user the agent acts for; they cannot approve the request. */
  readonly onBehalfOf?: string;
}

export interface WaitOptions {
  readonly signal?: AbortSignal;
  /** Give up (not granted) after this long; default: until the request's own deadline. */
  readonly timeoutMs?: number;
}

/**
 * A grant claimed for one execution: run `args` now, once. Report how it went with
 * `signoff.reportOutcome(grant, 'succeeded' | 'failed')` (optional, audited).
 *
 * @example
 * const grant = await signoff.claimExecution(approval);
 * await sendPayment(grant.args);
 */
export interface ExecutionGrant {
  /** The request, now `executed`. */
  readonly approval: ApprovalRequest;
  /** The args to run: the approved (possibly reviewer-edited) ones. */
  readonly args: unknown;
  /** This claim's attempt id (the server recognises retries by it). */
  readonly nonce: string;
}

/** The answer to "may this call run?", never an exception. */
export interface Authorization {
  readonly granted: boolean;
  /** The args that may run: the reviewers' edited args when they edited them. Only meaningful when granted. */
  readonly args: unknown;
  /** Why: the policy's reason, the reviewers' resolution, or the failure that closed it. */
  readonly reason: string;
  readonly decision: Decision;
  /** The control plane's request, when one was made. */
  readonly approval?: ApprovalRequest;
  /** Set when an infrastructure failure closed the call (fail-closed), or the approval was already used (`ALREADY_EXECUTED`). */
  readonly errorCode?: SignoffErrorCode;
  /** For an escalated call that may run: the claimed grant (pass it to `reportOutcome`). */
  readonly execution?: ExecutionGrant;
}

/** Longest single long-poll; the client loops until the deadline. */
const LONG_POLL_SECONDS = 30;
/** Polling interval once long-polls have proven impossible on this route. */
const POLL_INTERVAL_MS = 1_000;

/**
 * The agent-side Signoff: a local synchronous `guard()`, and the control plane calls to ask for,
 * wait for, and act on approvals. `authorize()` does all three and fails closed in one place.
 *
 * @example
 * const signoff = createSignoff({ policy: './policy.yaml', controlPlane: { url, apiKey: process.env.SIGNOFF_AGENT_KEY! } });
 * const { granted, args, reason } = await signoff.authorize('payment.send', { to: 'acme', amount: 500 });
 * if (granted) await sendPayment(args); else console.log(reason);
 */
export function createSignoff(options: SignoffOptions) {
  const localGuard: Guard = createGuard(options.policy);
  const controlPlane = createControlPlaneClient(options.controlPlane);
  const reporter =
    options.reportCalls !== false && compilePolicy(localGuard.policy).recordsCalls
      ? createCallReporter((calls) => controlPlane.recordCalls(calls), options.reportCalls || {})
      : undefined;
  // Without a reporter this is the plain guard: a policy that judges calls alone pays nothing.
  const guard: Guard = reporter
    ? Object.assign(
        (tool: string, args: unknown, context?: Readonly<Record<string, unknown>>, callOptions?: GuardCallOptions) => {
          const decision = localGuard(tool, args, context);
          if (decision.action === 'allow') reporter.add(decision, callOptions?.callId);
          return decision;
        },
        { policy: localGuard.policy, evaluate: localGuard.evaluate },
      )
    : localGuard;

  /**
   * Asks the control plane to approve an escalated call. With a `Decision` it returns as soon as the
   * request exists; with the guide's shape (`{ tool, args, reviewers }`) it also waits, like the guide.
   */
  async function requestApproval(input: Decision | GuideApprovalRequest, requestOptions: RequestApprovalOptions = {}): Promise<ApprovalRequest> {
    const decision = 'receipt' in input ? input : undefined;
    const guide = decision ? undefined : (input as GuideApprovalRequest);
    const requestId = decision?.receipt.id ?? guide?.requestId;
    const idempotencyKey = requestOptions.idempotencyKey ?? requestId ?? guard(input.tool, input.args, input.context).receipt.id;
    const created = await controlPlane.create(
      {
        tool: input.tool,
        args: input.args,
        ...(input.context ? { context: input.context } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
        idempotencyKey,
        ...(requestId ? { requestId } : {}),
        ...(guide?.reviewers ? { reviewers: guide.reviewers } : {}),
        ...(requestOptions.callbackUrl ? { callbackUrl: requestOptions.callbackUrl } : {}),
        ...(requestOptions.onBehalfOf ? { onBehalfOf: requestOptions.onBehalfOf } : {}),
      },
      requestOptions.signal,
    );
    return guide ? waitForDecision(created.id, requestOptions.signal ? { signal: requestOptions.signal } : {}) : created;
  }

  /** Reads a request's current state from the control plane (the authority), without waiting. */
  async function getApproval(id: string, signal?: AbortSignal): Promise<ApprovalRequest> {
    return controlPlane.get(id, signal);
  }

  /** Finds the request this agent created with an idempotency key, without creating one. */
  async function findApproval(idempotencyKey: string, signal?: AbortSignal): Promise<ApprovalRequest | undefined> {
    return controlPlane.findByIdempotencyKey(idempotencyKey, signal);
  }

  /**
   * Long-polls until the request resolves (or `timeoutMs`, then `APPROVAL_EXPIRED`); transient
   * failures are retried, and when long-polls keep failing while plain reads work, it polls.
   */
  async function waitForDecision(id: string, waitOptions: WaitOptions = {}): Promise<ApprovalRequest> {
    const giveUpAt = waitOptions.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + waitOptions.timeoutMs;
    let longPoll = true;
    for (;;) {
      // Wait exactly as long as is left (the server accepts fractional seconds), so the last poll is not a busy loop.
      const remainingSeconds = Math.max(0, (giveUpAt - Date.now()) / 1000);
      let request: ApprovalRequest;
      if (longPoll) {
        try {
          request = await controlPlane.wait(id, Math.min(LONG_POLL_SECONDS, Math.round(remainingSeconds * 1000) / 1000), waitOptions.signal);
        } catch (error) {
          // Something between us and the server (a proxy cutting long requests) may break long-polls
          // while plain reads work: then poll. If reads fail too, that error is the answer.
          if (!SignoffError.isInstance(error) || error.code !== 'CONTROL_PLANE_UNAVAILABLE') throw error;
          request = await controlPlane.get(id, waitOptions.signal);
          longPoll = false;
        }
      } else {
        await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, giveUpAt - Date.now())), waitOptions.signal);
        request = await controlPlane.get(id, waitOptions.signal);
      }
      if (request.status !== 'pending') return request;
      if (Date.now() >= giveUpAt) throw new SignoffError('APPROVAL_EXPIRED', `no decision on ${id} within ${waitOptions.timeoutMs} ms`);
    }
  }

  /**
   * Uses a granted approval for one execution, just before running the call: the control plane
   * moves it to `executed` atomically, so replayed resumes, retried webhooks and copied state run
   * nothing twice. Network failures are retried with the same attempt id (recognised, not a replay).
   * Throws `ALREADY_EXECUTED` when it was used before, `CONTROL_PLANE_REJECTED` when it is not a
   * usable grant (not granted, other args, past its use-by time, another policy), and
   * `CONTROL_PLANE_UNAVAILABLE` when there is no answer: in every case, do not run the call.
   */
  async function claimExecution(approval: ApprovalRequest, claimOptions: { readonly signal?: AbortSignal } = {}): Promise<ExecutionGrant> {
    const nonce = `n_${randomUUID()}`;
    const claimed = await controlPlane.claim(approval.id, { argsHash: approval.approvedArgsHash, nonce }, claimOptions.signal);
    // Trust only a claim that is ours, for these args: anything else is not a grant to run.
    if (claimed.status !== 'executed' || claimed.execution?.nonce !== nonce || claimed.approvedArgsHash !== approval.approvedArgsHash || hashArgs(claimed.approvedArgs) !== claimed.approvedArgsHash) {
      throw new SignoffError('CONTROL_PLANE_REJECTED', `control plane answered the claim of ${approval.id} with something that is not this claim`);
    }
    return { approval: claimed, args: claimed.approvedArgs, nonce };
  }

  /** Reports how a claimed call ended (optional; audited next to the approval). */
  async function reportOutcome(grant: ExecutionGrant, outcome: 'succeeded' | 'failed', reportOptions: { readonly detail?: string; readonly signal?: AbortSignal } = {}): Promise<void> {
    await controlPlane.report(grant.approval.id, { nonce: grant.nonce, outcome, ...(reportOptions.detail ? { detail: reportOptions.detail.slice(0, 2_000) } : {}) }, reportOptions.signal);
  }

  /**
   * Guards the call, asks for approval when it escalates, waits, checks the verdict covers this call,
   * and claims the grant: `granted` means run `args` now, once. Never throws.
   */
  async function authorize(
    tool: string,
    args: unknown,
    authorizeOptions: RequestApprovalOptions & WaitOptions & { context?: Readonly<Record<string, unknown>> } = {},
  ): Promise<Authorization> {
    // The idempotency key names this call: a retried authorize of an allowed call is reported once.
    let decision: Decision;
    try {
      decision = guard(tool, args, authorizeOptions.context, authorizeOptions.idempotencyKey === undefined ? undefined : { callId: authorizeOptions.idempotencyKey });
    } catch (error) {
      return unreadableCall(tool, args, authorizeOptions.context, guard.policy.hash, error);
    }
    if (decision.action === 'allow') return { granted: true, args, reason: decision.reason, decision };
    if (decision.action === 'deny') return { granted: false, args, reason: decision.reason, decision };
    try {
      const created = await requestApproval(decision, authorizeOptions);
      const approval = created.status === 'pending' ? await waitForDecision(created.id, authorizeOptions) : created;
      const check = checkApproval(approval, { tool, args });
      if (!check.granted) return { granted: false, args, reason: check.reason, decision, approval, ...(approval.status === 'executed' ? { errorCode: 'ALREADY_EXECUTED' as const } : {}) };
      const execution = await claimExecution(approval, authorizeOptions.signal ? { signal: authorizeOptions.signal } : {});
      return { granted: true, args: execution.args, reason: approval.resolution, decision, approval: execution.approval, execution };
    } catch (error) {
      return failClosed(decision, error);
    }
  }

  /** Sends the allowed calls still waiting to be reported (call before the process exits). */
  const flushCalls = async (): Promise<void> => reporter?.flush();

  return { guard, flushCalls, requestApproval, getApproval, findApproval, waitForDecision, claimExecution, reportOutcome, authorize, policy: guard.policy };
}

export type Signoff = ReturnType<typeof createSignoff>;

/** A call whose args or context threw when `guard()` read them: not decided, so denied (`INVALID_ARGUMENT`). */
function unreadableCall(tool: string, args: unknown, context: Readonly<Record<string, unknown>> | undefined, policyHash: string, error: unknown): Authorization {
  const reason = `Not run (fail-closed): the call's args or context could not be read (${error instanceof Error ? error.message : String(error)})`;
  const decision: Decision = {
    action: 'deny',
    reason,
    ruleId: null,
    unknownPath: null,
    tool,
    args,
    context,
    approval: undefined,
    receipt: { id: randomUUID(), policyHash, at: new Date().toISOString() },
  };
  return { granted: false, args, reason, decision, errorCode: 'INVALID_ARGUMENT' };
}

/** The one place the client turns any failure into "not granted", with the reason and code. */
function failClosed(decision: Decision, error: unknown): Authorization {
  const code: SignoffErrorCode = SignoffError.isInstance(error) ? error.code : 'CONTROL_PLANE_UNAVAILABLE';
  const message = error instanceof Error ? error.message : String(error);
  return { granted: false, args: decision.args, reason: `Not run (fail-closed): ${message}`, decision, errorCode: code };
}
