import type { ApprovalRequest } from '../spec/approval-request.js';
import { SignoffError, type SignoffErrorCode } from '../errors/signoff-error.js';
import { sleep } from './sleep.js';
import { controlPlaneBase, jsonBody } from './request-parts.js';

/** Where the control plane is and how to reach it. */
export interface ControlPlaneOptions {
  /** Base URL, e.g. `https://signoff.internal:8787`. */
  readonly url: string;
  /** An agent API key. */
  readonly apiKey: string;
  /** Per-HTTP-call timeout (default 10 s; long-polls add their own wait). */
  readonly requestTimeoutMs?: number;
  /** Attempts for a call that fails transiently (network error, 5xx, 429; default 5). */
  readonly maxAttempts?: number;
  /** First retry delay; doubles each attempt with jitter (default 200 ms). */
  readonly retryDelayMs?: number;
  /** Injectable fetch (tests, proxies); defaults to the global one. */
  readonly fetch?: typeof fetch;
}

/** The body of a create call (`POST /v1/approvals`). */
export interface CreateApprovalBody {
  readonly tool: string;
  readonly args: unknown;
  readonly context?: Readonly<Record<string, unknown>>;
  readonly reason?: string;
  readonly idempotencyKey: string;
  readonly requestId?: string;
  readonly callbackUrl?: string;
  readonly onBehalfOf?: string;
  readonly reviewers?: readonly string[];
}

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * A small HTTP client for the `/v1` API that retries what is safe to retry: network failures and
 * transient statuses, with exponential backoff and jitter. Creation is safe to retry because it is
 * idempotent on its key. Errors: `CONTROL_PLANE_UNAVAILABLE` (could not get an answer),
 * `CONTROL_PLANE_REJECTED` (a 4xx, with the server's code and message), `ALREADY_EXECUTED`, and
 * `ESCALATION_BUDGET_EXCEEDED` (429: the agent key is over its escalation budget; not retried).
 */
export function createControlPlaneClient(options: ControlPlaneOptions) {
  const base = controlPlaneBase(options.url);
  const doFetch = options.fetch ?? fetch;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 200;

  async function call(method: 'GET' | 'POST', path: string, init: { body?: unknown; signal?: AbortSignal; waitMs?: number } = {}): Promise<ApprovalRequest> {
    return parseRequest(await send(method, path, init));
  }

  async function send(method: 'GET' | 'POST', path: string, init: { body?: unknown; signal?: AbortSignal; waitMs?: number }): Promise<string> {
    let lastProblem = 'no attempt made';
    const body = init.body ? jsonBody(init.body, `${method} ${path}`) : undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      init.signal?.throwIfAborted();
      const timeout = AbortSignal.timeout(requestTimeoutMs + (init.waitMs ?? 0));
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      try {
        const response = await doFetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body }),
          signal,
        });
        const text = await response.text();
        if (response.ok) return text;
        const error = parseError(text);
        // An escalation budget is a refusal, not congestion: retrying now only adds to the count.
        if (!TRANSIENT_STATUS.has(response.status) || error.code === 'ESCALATION_BUDGET_EXCEEDED') {
          const code: SignoffErrorCode = error.code === 'ALREADY_EXECUTED' || error.code === 'ESCALATION_BUDGET_EXCEEDED' ? error.code : 'CONTROL_PLANE_REJECTED';
          throw new SignoffError(code, `control plane refused ${method} ${path} (${response.status} ${error.code}): ${error.message}`);
        }
        lastProblem = `${response.status} ${error.code}: ${error.message}`;
      } catch (error) {
        if (SignoffError.isInstance(error)) throw error;
        if (init.signal?.aborted) throw init.signal.reason;
        lastProblem = describeNetworkError(error);
      }
      if (attempt < maxAttempts) await sleep(retryDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random()), init.signal);
    }
    throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', `control plane at ${base} unavailable after ${maxAttempts} attempts: ${lastProblem}`);
  }

  return {
    create: (body: CreateApprovalBody, signal?: AbortSignal) => call('POST', '/v1/approvals', { body, ...(signal ? { signal } : {}) }),
    get: (id: string, signal?: AbortSignal) => call('GET', `/v1/approvals/${encodeURIComponent(id)}`, signal ? { signal } : {}),
    /** The caller's own request made with this idempotency key, if any (never creates one). */
    async findByIdempotencyKey(key: string, signal?: AbortSignal): Promise<ApprovalRequest | undefined> {
      const text = await send('GET', `/v1/approvals?idempotencyKey=${encodeURIComponent(key)}&limit=1`, signal ? { signal } : {});
      let data: unknown;
      try {
        data = (JSON.parse(text) as { data?: unknown }).data;
      } catch {
        throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', 'control plane answered with malformed JSON');
      }
      if (!Array.isArray(data)) throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', 'control plane answered with something that is not a list');
      return data.length === 0 ? undefined : parseRequest(JSON.stringify(data[0]));
    },
    /**
     * Claims a granted request for one execution. Safe to retry: every attempt of this call carries
     * the same `nonce`, which the server recognises; a different nonce is a replay (`ALREADY_EXECUTED`).
     */
    claim: (id: string, body: { readonly argsHash: string; readonly nonce: string }, signal?: AbortSignal) =>
      call('POST', `/v1/approvals/${encodeURIComponent(id)}/execution`, { body, ...(signal ? { signal } : {}) }),
    /** Reports how a claimed call ended (audited). */
    report: (id: string, body: { readonly nonce: string; readonly outcome: 'succeeded' | 'failed'; readonly detail?: string }, signal?: AbortSignal) =>
      call('POST', `/v1/approvals/${encodeURIComponent(id)}/execution/outcome`, { body, ...(signal ? { signal } : {}) }),
    /** Reports calls the agent allowed on its own (`POST /v1/calls`), for the control plane's call history. */
    async recordCalls(calls: readonly { id: string; tool: string; args: unknown; context?: Readonly<Record<string, unknown>> }[], signal?: AbortSignal): Promise<void> {
      await send('POST', '/v1/calls', { body: { calls }, ...(signal ? { signal } : {}) });
    },
    /** One long-poll: returns when the request resolves or after `waitSeconds` (≤ 60) with it still pending. */
    wait: (id: string, waitSeconds: number, signal?: AbortSignal) =>
      call('GET', `/v1/approvals/${encodeURIComponent(id)}/wait?timeout=${waitSeconds}`, { waitMs: waitSeconds * 1000, ...(signal ? { signal } : {}) }),
  };
}

export type ControlPlaneClient = ReturnType<typeof createControlPlaneClient>;

function parseRequest(text: string): ApprovalRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', 'control plane answered with malformed JSON');
  }
  const request = body as Partial<ApprovalRequest> | null;
  if (!request || typeof request.id !== 'string' || typeof request.status !== 'string' || typeof request.granted !== 'boolean') {
    throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', 'control plane answered with something that is not an approval request');
  }
  return request as ApprovalRequest;
}

function parseError(text: string): { code: string; message: string } {
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return { code: error?.code ?? 'UNKNOWN', message: error?.message ?? text.slice(0, 200) };
  } catch {
    return { code: 'UNKNOWN', message: text.slice(0, 200) };
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
