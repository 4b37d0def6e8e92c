import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type * as z from 'zod';
import type { ApprovalRequest } from '@signoff/core';
import { ESCALATION_BUDGET_EXCEEDED, type ApprovalService, type Principal } from '../approval-service.js';
import type { CallbackPolicy } from '../channels/callback-policy.js';
import type { ApiKey } from '../config/server-config.js';
import { depthExceeds, failureOf, MAX_JSON_DEPTH } from './api-error.js';
import { CreateApprovalBody } from './api-schemas.js';
import type { createMetrics } from './metrics.js';
import { createPrincipalResolver } from './resolve-principal.js';
import { send } from './wait-listener.js';

export interface CreateListenerOptions {
  readonly service: ApprovalService;
  readonly apiKeys: readonly ApiKey[];
  /** The app's metrics, so creations and refusals are counted once, whichever path answered. */
  readonly metrics: ReturnType<typeof createMetrics>;
  /** The app's body limit (bytes). */
  readonly maxBodyBytes: number;
  /** What agents' `callbackUrl`s may point at, as given to the app; absent = no callbacks. */
  readonly callbacks?: CallbackPolicy;
  /** The Hono app's listener: every request this one does not answer itself goes there. */
  readonly fallback: RequestListener;
}

type Metrics = ReturnType<typeof createMetrics>;
type Answer = { status: 200 | 201 | 409 | 429; body: ApprovalRequest | { error: { code: string; message: string; field?: string } }; headers: Record<string, string> };

/**
 * What `POST /v1/approvals` answers once the body is valid and the callback allowed: the service
 * creates (or replays, or folds into the identical pending request), and the outcome maps to a
 * status. Shared by the Hono route and {@link createCreateListener}, so both answer alike.
 */
export async function answerCreate(service: ApprovalService, metrics: Metrics, principal: Principal, body: z.infer<typeof CreateApprovalBody>): Promise<Answer> {
  const { reviewers, reason: _agentReason, requestId: _requestId, ...input } = body;
  const outcome = await service.create(principal, { ...input, ...(reviewers ? { notify: reviewers } : {}) });
  if (outcome.kind === 'conflict') {
    metrics.refusals.inc({ code: 'IDEMPOTENCY_CONFLICT' });
    return { status: 409, body: { error: { code: 'IDEMPOTENCY_CONFLICT', message: outcome.reason, field: 'idempotencyKey' } }, headers: {} };
  }
  if (outcome.kind === 'over_budget') {
    // 429 with its own code: the client fails closed at once (no retry), with this reason.
    metrics.refusals.inc({ code: ESCALATION_BUDGET_EXCEEDED });
    return { status: 429, body: { error: { code: ESCALATION_BUDGET_EXCEEDED, message: outcome.reason } }, headers: {} };
  }
  if (outcome.kind === 'created') metrics.created.inc({ status: outcome.request.status });
  // Folded into the identical request already pending: the agent waits on that one.
  return { status: outcome.kind === 'created' ? 201 : 200, body: outcome.request, headers: outcome.kind === 'deduplicated' ? { 'signoff-deduplicated': 'true' } : {} };
}

/**
 * `POST /v1/approvals` on the raw `node:http` request, before Hono: creation is the hot write path,
 * and the Web `Request`, its body stream, Hono's context and the response conversion cost about as
 * much CPU as the transaction itself (see docs/benchmarks.md).
 *
 * Only the plain path is answered here: an agent key, a `Content-Length` body within the limit that
 * parses, is not nested too deep and validates, and no callback the app would refuse. Anything else
 * goes to the Hono app — before the body is read (a refused key, a missing or too large length), or
 * with the bytes already read handed over as `rawBody`, which @hono/node-server reads instead of
 * the stream — before anything is written, so its refusals, audit, error bodies and limits apply
 * unchanged. Once the service is called, every outcome is answered here as the Hono route would.
 *
 * @example
 * http.createServer(createCreateListener({ service, apiKeys, metrics, maxBodyBytes, fallback: honoListener }));
 */
export function createCreateListener(options: CreateListenerOptions): RequestListener {
  const { service, metrics, maxBodyBytes, callbacks, fallback } = options;
  const principalOf = createPrincipalResolver(service, options.apiKeys);

  async function answer(request: IncomingMessage, response: ServerResponse, principal: Principal, bytes: Buffer): Promise<void> {
    const handOver = () => {
      (request as IncomingMessage & { rawBody?: Buffer }).rawBody = bytes;
      fallback(request, response);
    };
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return handOver();
    }
    if (depthExceeds(json, MAX_JSON_DEPTH)) return handOver();
    const parsed = CreateApprovalBody.safeParse(json);
    if (!parsed.success) return handOver();
    const callbackUrl = parsed.data.callbackUrl;
    if (callbackUrl !== undefined && (!callbacks || callbacks.problem(callbackUrl) !== undefined)) return handOver();
    let created: Answer;
    try {
      created = await answerCreate(service, metrics, principal, parsed.data);
    } catch (error) {
      const failure = failureOf(error, metrics);
      return send(response, failure.status, failure.body);
    }
    send(response, created.status, created.body, created.headers);
  }

  return (request, response) => {
    const length = request.headers['content-length'];
    const plain = request.method === 'POST' && request.url === '/v1/approvals' && request.headers['transfer-encoding'] === undefined && length !== undefined && /^\d{1,9}$/.test(length) && Number(length) <= maxBodyBytes;
    const principal = plain ? principalOf(request.headers.authorization) : undefined;
    if (principal?.kind !== 'agent') return fallback(request, response);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => {
      answer(request, response, principal, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).catch(() => response.destroy());
    });
    // The client went away mid-body: nobody is listening for an answer.
    request.once('error', () => response.destroy());
  };
}
