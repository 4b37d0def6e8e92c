import { SignoffError } from '../errors/signoff-error.js';
import type { ApprovalRequest } from '../spec/approval-request.js';
import type { ApprovalStatus } from '../spec/approval-status.js';
import { controlPlaneBase, jsonBody } from './request-parts.js';

export interface ReviewerClientOptions {
  /** Base URL of the control plane. */
  readonly url: string;
  /** A reviewer API key. */
  readonly apiKey: string;
  readonly fetch?: typeof fetch;
  /** Per-call timeout (default 10 s). */
  readonly timeoutMs?: number;
}

/**
 * The reviewer side of the `/v1` API, for CLIs, chat UIs that approve in place, and scripts:
 * list what you can act on, read a request, approve or deny. A decision is never retried
 * automatically (a retry of an applied decision would be refused as a duplicate); errors carry the
 * server's code and reason, e.g. `SELF_APPROVAL` or `EXPIRED`, as `CONTROL_PLANE_REJECTED`.
 *
 * @example
 * const reviewer = createReviewerClient({ url, apiKey: process.env.SIGNOFF_REVIEWER_KEY! });
 * for (const request of await reviewer.list({ actionable: true })) await reviewer.decide(request.id, 'approve');
 */
export function createReviewerClient(options: ReviewerClientOptions) {
  const base = controlPlaneBase(options.url);
  const doFetch = options.fetch ?? fetch;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : jsonBody(body, `${method} ${path}`);
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(payload === undefined ? {} : { body: payload }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', `control plane at ${base} unreachable: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', `control plane answered ${response.status} with malformed JSON`);
    }
    if (!response.ok) {
      const error = (answer as { error?: { code?: string; message?: string } }).error;
      const failure = new SignoffError('CONTROL_PLANE_REJECTED', `${error?.code ?? response.status}: ${error?.message ?? text.slice(0, 200)}`);
      throw Object.assign(failure, { status: response.status, serverCode: error?.code });
    }
    return answer as T;
  }

  async function listPage(filter: ReviewerListFilter = {}): Promise<{ data: ApprovalRequest[]; nextCursor: string | null }> {
    const query = new URLSearchParams();
    if (filter.actionable) query.set('actionable', 'true');
    if (filter.status) query.set('status', filter.status);
    if (filter.tool) query.set('tool', filter.tool);
    if (filter.order) query.set('order', filter.order);
    if (filter.limit) query.set('limit', String(filter.limit));
    if (filter.cursor) query.set('cursor', filter.cursor);
    const page = await call<{ data: ApprovalRequest[]; nextCursor?: string | null }>('GET', `/v1/approvals${query.size ? `?${query}` : ''}`);
    return { data: page.data, nextCursor: page.nextCursor ?? null };
  }

  return {
    /** Newest first (or `order: 'deadline'`). `actionable: true` = what this reviewer can decide now. */
    async list(filter: ReviewerListFilter = {}): Promise<ApprovalRequest[]> {
      return (await listPage(filter)).data;
    },
    /** One page and where the next starts (`nextCursor`, `null` after the last page): pass it back as `cursor`. */
    listPage,
    get: (id: string) => call<ApprovalRequest>('GET', `/v1/approvals/${encodeURIComponent(id)}`),
    /**
     * Approves or denies; `args` approves edited args instead (the server decides them as if the agent
     * had sent them). Pass `argsHash` — the `approvedArgsHash` of the request as you reviewed it — and
     * an approval is refused (`409 ARGS_CHANGED`) if another reviewer edited the args in between.
     */
    decide: (id: string, verdict: 'approve' | 'deny', extra: { comment?: string; args?: unknown; argsHash?: string } = {}) =>
      call<ApprovalRequest>('POST', `/v1/approvals/${encodeURIComponent(id)}/decision`, { verdict, ...extra }),
  };
}

export type ReviewerClient = ReturnType<typeof createReviewerClient>;

/** Which requests a reviewer lists; `cursor` continues after an earlier page (of the same `order`). */
export interface ReviewerListFilter {
  readonly actionable?: boolean;
  readonly status?: ApprovalStatus;
  readonly tool?: string;
  /** `newest` first (default), or `deadline`: soonest `expiresAt` first — what runs out first. */
  readonly order?: 'newest' | 'deadline';
  readonly limit?: number;
  readonly cursor?: string;
}
