import { createHash } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { limitBody } from './limit-body.js';
import type { CallbackPolicy } from '../channels/callback-policy.js';
import { createRefusalLimiter, type RefusalLimiter } from './refusal-limiter.js';
import { Hono, type Context } from 'hono';
import type * as z from 'zod';
import { SignoffError, type ApprovalRequest } from '@signoff/core';
import { ESCALATION_BUDGET_EXCEEDED, type ApprovalService, type Principal } from '../approval-service.js';
import type { AuditEventInput } from '../audit/audit-event.js';
import type { Channel } from '../channels/channel.js';
import type { ApiKey } from '../config/server-config.js';
import type { RefusalCode } from '../engine/apply-decision.js';
import type { ClaimRefusalCode } from '../engine/claim-execution.js';
import { apiError, invalidRequest } from './api-error.js';
import { ClaimBody, CreateApprovalBody, DecisionBody, ListQuery, RecordCallsBody, ReportBody, WaitQuery } from './api-schemas.js';
import { createMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import type { ListOrder } from '../store/store.js';

export interface AppOptions {
  readonly service: ApprovalService;
  readonly apiKeys: readonly ApiKey[];
  /** Largest accepted request body, in bytes (default 256 KiB). */
  readonly maxBodyBytes?: number;
  /** What agents' `callbackUrl`s may point at (needs webhooks configured); absent = no callbacks. */
  readonly callbacks?: CallbackPolicy;
  /** Channels whose own routes (interactions, links, pages) this app serves. */
  readonly channels?: readonly Channel[];
  /** Audits refused access with a bound per source (default: one of its own; pass one to flush it on shutdown). */
  readonly refusals?: RefusalLimiter;
  /** Its Prometheus metrics (default: its own); pass them to share them with `createWaitListener`. */
  readonly metrics?: ReturnType<typeof createMetrics>;
}

const REFUSAL_STATUS: Record<RefusalCode, 403 | 409 | 422> = {
  ALREADY_RESOLVED: 409,
  EXPIRED: 409,
  DUPLICATE_DECISION: 409,
  ARGS_CHANGED: 409,
  SELF_APPROVAL: 403,
  NOT_AN_APPROVER: 403,
  EDIT_REFUSED: 422,
};
const CLAIM_REFUSAL_STATUS: Record<ClaimRefusalCode, 409> = {
  NOT_GRANTED: 409,
  ALREADY_EXECUTED: 409,
  GRANT_EXPIRED: 409,
  ARGS_MISMATCH: 409,
  POLICY_CHANGED: 409,
};
const APPROVAL_ID = /^apr_[\w-]{10,40}$/;
/** Deeper JSON is refused with a 400 (recursive validation would otherwise overflow the stack). */
const MAX_JSON_DEPTH = 64;

/** Where a page of requests ends, as an opaque token: its last request's creation time (or deadline, in deadline order) and id. */
function encodeCursor(request: ApprovalRequest, order: ListOrder): string {
  const position = order === 'deadline' ? ['deadline', request.expiresAt, request.id] : [request.createdAt, request.id];
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position a cursor names in the given order; `null` when it is not one of ours (or belongs to the other order). */
function decodeCursor(cursor: string, order: ListOrder): { before: { createdAt: string; id: string } } | { after: { expiresAt: string; id: string } } | null {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const [at, id] = order === 'deadline' && position[0] === 'deadline' ? position.slice(1) : order === 'newest' && position.length === 2 ? position : [];
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !APPROVAL_ID.test(id)) return null;
    return order === 'deadline' ? { after: { expiresAt: at, id } } : { before: { createdAt: at, id } };
  } catch {
    return null;
  }
}

/** The client's address as the socket saw it ('unknown' outside Node's server, e.g. in app.request tests). */
function remoteAddress(context: Context): string {
  try {
    return getConnInfo(context).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Database errors that mean "cannot write now" (full disk, read-only file or disk, I/O), not a bug. */
function storageFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (/^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY)/.test(code)) return code;
  // PostgreSQL: insufficient resources (53xxx, e.g. disk full), read-only transaction (25006), connection failures (08xxx).
  if (/^(53\d{3}|25006|08\d{3})$/.test(code) || code === 'ECONNREFUSED') return `PostgreSQL ${code}`;
  return undefined;
}

/** Whether a parsed JSON value nests deeper than `limit`, checked without recursion. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

type Env = { Variables: { principal: Principal } };

/**
 * The control plane's HTTP API (`/v1`), on Hono: API-key auth, strict validation (a 400 names the
 * field), and a thin mapping onto the approval service, which holds every rule.
 *
 * @example
 * serve({ fetch: createApp({ service, apiKeys }).fetch, port: 8787 });
 */
export function createApp(options: AppOptions): Hono<Env> {
  const { service } = options;
  const keysByHash = new Map(options.apiKeys.map((key) => [key.keySha256, key]));
  const metrics = options.metrics ?? createMetrics();
  const refusals = options.refusals ?? createRefusalLimiter({ record: (events) => service.recordRefusals(events) });
  const app = new Hono<Env>();

  /**
   * The one place the API refuses access: counted, audited (in full for the first few per source and
   * minute, then summarized, so nobody can fill the disk with refusals), and `429` past an allowance.
   */
  async function refuseAccess(context: Context<Env>, refusal: { status: 400 | 401 | 403 | 404; code: string; message: string; event?: AuditEventInput; field?: string }): Promise<Response> {
    const principal = context.get('principal') as Principal | undefined;
    const source = principal ? `key ${principal.name}` : `address ${remoteAddress(context)}`;
    const event: AuditEventInput = refusal.event ?? {
      type: 'access.refused',
      actor: principal?.name ?? 'unknown',
      channel: 'api',
      detail: { code: refusal.code, reason: refusal.message, method: context.req.method, path: context.req.path.slice(0, 200) },
    };
    metrics.refusals.inc({ code: refusal.code });
    if ((await refusals.refuse(source, event)) === 'throttled') {
      context.header('retry-after', String(refusals.retryAfterSeconds()));
      return apiError(context, 429, 'TOO_MANY_REFUSALS', `too many refused requests from this ${principal ? 'key' : 'address'}; retry later`);
    }
    return apiError(context, refusal.status, refusal.code, refusal.message, refusal.field);
  }

  app.onError((error, context) => {
    // The client went away mid-body (e.g. broken chunked framing): its problem, and nobody is listening.
    if (error instanceof Error && error.message === 'aborted') return apiError(context, 400, 'REQUEST_ABORTED', 'the request body was cut off');
    // A request row that does not match its audit chain: refuse, loudly, and keep serving the rest.
    // 409, not 5xx: retrying cannot help, and clients retry 5xx.
    if (SignoffError.isInstance(error) && error.code === 'STATE_TAMPERED') {
      console.error(`signoff: ${error.message}`);
      metrics.refusals.inc({ code: 'STATE_TAMPERED' });
      return apiError(context, 409, 'STATE_TAMPERED', `${error.message}. Nothing was changed.`);
    }
    const storage = storageFailure(error);
    if (storage) {
      console.error(`signoff: storage unavailable (${storage}); nothing was written`, error);
      return apiError(context, 503, 'STORAGE_UNAVAILABLE', `the database cannot be written (${storage}); nothing was changed — retry later`);
    }
    console.error('signoff: unexpected error', error);
    return apiError(context, 500, 'INTERNAL', 'unexpected server error; nothing was changed by the failed step');
  });
  app.notFound((context) => apiError(context, 404, 'NOT_FOUND', `no route ${context.req.method} ${context.req.path}`));

  app.get('/v1/health', (context) => context.json({ status: 'ok' }));
  app.get('/metrics', async (context) => context.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  app.get('/v1/openapi.json', (context) => context.json(openApiDocument));

  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  app.use('/v1/approvals/*', limitBody(maxBodyBytes, (context) => apiError(context, 413, 'BODY_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes`)));
  app.use('/v1/approvals', authenticate);
  app.use('/v1/calls', limitBody(maxBodyBytes, (context) => apiError(context, 413, 'BODY_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes`)));
  app.use('/v1/calls', authenticate);
  app.use('/v1/approvals/*', authenticate);

  async function authenticate(context: Context<Env>, next: () => Promise<void>) {
    const header = context.req.header('authorization') ?? '';
    const token = /^Bearer ([\x21-\x7e]{16,512})$/.exec(header)?.[1];
    const key = token === undefined ? undefined : keysByHash.get(createHash('sha256').update(token).digest('hex'));
    if (!key) {
      const reason = token === undefined ? 'missing or malformed Authorization: Bearer <api key>' : 'unknown API key';
      return refuseAccess(context, { status: 401, code: 'UNAUTHENTICATED', message: reason });
    }
    const reviewer = key.reviewer === undefined ? undefined : service.reviewerById(key.reviewer);
    context.set('principal', { name: reviewer?.id ?? key.name, kind: key.kind, ...(reviewer ? { reviewer } : {}) });
    await next();
  }

  const readJson = async (context: Context<Env>): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> => {
    let body: unknown;
    try {
      body = await context.req.json();
    } catch {
      return { ok: false, response: apiError(context, 400, 'INVALID_JSON', 'the body is not valid JSON') };
    }
    // Validation and hashing recurse; refuse absurd nesting before anything walks it.
    if (depthExceeds(body, MAX_JSON_DEPTH)) {
      return { ok: false, response: apiError(context, 400, 'INVALID_REQUEST', `the body is nested more than ${MAX_JSON_DEPTH} levels deep`) };
    }
    return { ok: true, body };
  };
  /** Agents see their own requests; reviewers see all. Anything else is a 404, never a hint. */
  const visible = (principal: Principal, request: ApprovalRequest | undefined) =>
    request !== undefined && (principal.kind === 'reviewer' || request.requester === principal.name);

  // Calls an agent ran on its own `allow`, reported in batches so history conditions count them.
  app.post('/v1/calls', async (context) => {
    const principal = context.get('principal');
    if (principal.kind !== 'agent') return refuseAccess(context, { status: 403, code: 'AGENT_KEY_REQUIRED', message: 'only agent keys report calls' });
    const json = await readJson(context);
    if (!json.ok) return json.response;
    const parsed = RecordCallsBody.safeParse(json.body);
    if (!parsed.success) return invalidRequest(context, parsed.error, 'body');
    const recorded = await service.recordReported(principal, parsed.data.calls);
    return context.json({ recorded }, 202);
  });

  app.post('/v1/approvals', async (context) => {
    const principal = context.get('principal');
    if (principal.kind !== 'agent') return refuseAccess(context, { status: 403, code: 'AGENT_KEY_REQUIRED', message: 'only agent keys create approval requests' });
    const json = await readJson(context);
    if (!json.ok) return json.response;
    const parsed = CreateApprovalBody.safeParse(json.body);
    if (!parsed.success) return invalidRequest(context, parsed.error, 'body');
    const { reviewers, reason: _agentReason, requestId: _requestId, ...input } = parsed.data;
    if (input.callbackUrl && !options.callbacks) {
      return apiError(context, 400, 'CALLBACKS_DISABLED', 'callbackUrl needs webhooks configured on the server (webhooks.secret)', 'callbackUrl');
    }
    // Agents choose callback URLs: only allow-listed origins, never an internal address unless listed (SSRF).
    const callbackProblem = input.callbackUrl ? options.callbacks?.problem(input.callbackUrl) : undefined;
    if (callbackProblem) return refuseAccess(context, { status: 400, code: 'CALLBACK_NOT_ALLOWED', message: callbackProblem, field: 'callbackUrl' });
    const outcome = await service.create(principal, { ...input, ...(reviewers ? { notify: reviewers } : {}) });
    if (outcome.kind === 'conflict') {
      metrics.refusals.inc({ code: 'IDEMPOTENCY_CONFLICT' });
      return apiError(context, 409, 'IDEMPOTENCY_CONFLICT', outcome.reason, 'idempotencyKey');
    }
    if (outcome.kind === 'over_budget') {
      // 429 with its own code: the client fails closed at once (no retry), with this reason.
      metrics.refusals.inc({ code: ESCALATION_BUDGET_EXCEEDED });
      return apiError(context, 429, ESCALATION_BUDGET_EXCEEDED, outcome.reason);
    }
    if (outcome.kind === 'created') metrics.created.inc({ status: outcome.request.status });
    // Folded into the identical request already pending: the agent waits on that one.
    if (outcome.kind === 'deduplicated') context.header('signoff-deduplicated', 'true');
    return context.json(outcome.request, outcome.kind === 'created' ? 201 : 200);
  });

  app.get('/v1/approvals', async (context) => {
    const principal = context.get('principal');
    const parsed = ListQuery.safeParse(context.req.query());
    if (!parsed.success) return invalidRequest(context, parsed.error, 'query');
    const { actionable, cursor, order = 'newest', ...filter } = parsed.data;
    if (actionable === 'true' && !principal.reviewer) return refuseAccess(context, { status: 403, code: 'REVIEWER_KEY_REQUIRED', message: 'actionable=true needs a reviewer key' });
    const position = cursor === undefined ? undefined : decodeCursor(cursor, order);
    if (position === null) return apiError(context, 400, 'INVALID_REQUEST', `query.cursor: expected the nextCursor of an earlier page in ${order} order`, 'cursor');
    const limit = filter.limit ?? 100;
    const requests = await service.list({
      ...filter,
      order,
      ...position,
      ...(principal.kind === 'agent' ? { requester: principal.name } : {}),
      ...(actionable === 'true' && principal.reviewer ? { actionableBy: principal.reviewer } : {}),
    });
    // A full page may have more after it: its last request is where the next one starts.
    const last = requests.length === limit ? requests.at(-1) : undefined;
    return context.json({ data: requests, nextCursor: last ? encodeCursor(last, order) : null });
  });

  app.get('/v1/approvals/:id', async (context) => {
    const id = context.req.param('id');
    const request = APPROVAL_ID.test(id) ? await service.get(id) : undefined;
    if (!visible(context.get('principal'), request)) return refuseAccess(context, { status: 404, code: 'NOT_FOUND', message: `no approval request ${id.slice(0, 60)}` });
    return context.json(request);
  });

  app.get('/v1/approvals/:id/wait', async (context) => {
    const id = context.req.param('id');
    const parsed = WaitQuery.safeParse(context.req.query());
    if (!parsed.success) return invalidRequest(context, parsed.error, 'query');
    if (!APPROVAL_ID.test(id) || !visible(context.get('principal'), await service.get(id))) {
      return refuseAccess(context, { status: 404, code: 'NOT_FOUND', message: `no approval request ${id.slice(0, 60)}` });
    }
    metrics.waiting.inc();
    const outcome = await service.waitForResolution(id, parsed.data.timeout * 1000).finally(() => metrics.waiting.dec());
    if (!outcome) return refuseAccess(context, { status: 404, code: 'NOT_FOUND', message: `no approval request ${id.slice(0, 60)}` });
    if (outcome.ended === 'shutdown') {
      return context.json({ error: { code: 'SHUTTING_DOWN', message: 'the server is stopping; retry the wait' } }, 503, { 'retry-after': '1' });
    }
    return context.json(outcome.request);
  });

  app.post('/v1/approvals/:id/decision', async (context) => {
    const principal = context.get('principal');
    const id = context.req.param('id');
    if (!principal.reviewer) {
      return refuseAccess(context, {
        status: 403,
        code: 'REVIEWER_KEY_REQUIRED',
        message: 'only reviewer keys decide approval requests',
        event: { type: 'decision.refused', ...(APPROVAL_ID.test(id) ? { requestId: id } : {}), actor: principal.name, channel: 'api', detail: { code: 'REVIEWER_KEY_REQUIRED', reason: 'an agent key tried to decide' } },
      });
    }
    const json = await readJson(context);
    if (!json.ok) return json.response;
    const parsed = DecisionBody.safeParse(json.body);
    if (!parsed.success) return invalidRequest(context, parsed.error, 'body');
    const outcome = APPROVAL_ID.test(id)
      ? await service.decide(id, {
          reviewer: principal.reviewer,
          verdict: parsed.data.verdict,
          channel: 'api',
          ...(parsed.data.comment ? { comment: parsed.data.comment } : {}),
          ...(parsed.data.args !== undefined ? { editedArgs: parsed.data.args } : {}),
          ...(parsed.data.argsHash !== undefined ? { argsHash: parsed.data.argsHash } : {}),
        })
      : undefined;
    if (!outcome) return refuseAccess(context, { status: 404, code: 'NOT_FOUND', message: `no approval request ${id.slice(0, 60)}` });
    if (outcome.kind === 'refused') {
      metrics.refusals.inc({ code: outcome.code });
      return apiError(context, REFUSAL_STATUS[outcome.code], outcome.code, outcome.reason);
    }
    metrics.decisions.inc({ verdict: parsed.data.verdict, channel: 'api' });
    return context.json(outcome.request);
  });

  /**
   * What the execution routes share: an agent key, a valid body, and a request this agent made
   * (anything else is a 404, never a hint). A `Response` when the call stops here.
   */
  async function ownRequestCall<T>(context: Context<Env>, schema: z.ZodType<T>, refusal: string): Promise<Response | { principal: Principal; id: string; body: T }> {
    const principal = context.get('principal');
    const id = context.req.param('id') ?? '';
    if (principal.kind !== 'agent') return refuseAccess(context, { status: 403, code: 'AGENT_KEY_REQUIRED', message: refusal });
    const json = await readJson(context);
    if (!json.ok) return json.response;
    const parsed = schema.safeParse(json.body);
    if (!parsed.success) return invalidRequest(context, parsed.error, 'body');
    if (!APPROVAL_ID.test(id) || !visible(principal, await service.get(id))) return notFound(context, id);
    return { principal, id, body: parsed.data };
  }
  const notFound = (context: Context<Env>, id: string) => refuseAccess(context, { status: 404, code: 'NOT_FOUND', message: `no approval request ${id.slice(0, 60)}` });

  // The single use of a grant: only the agent that asked claims it, just before it runs the call.
  app.post('/v1/approvals/:id/execution', async (context) => {
    const call = await ownRequestCall(context, ClaimBody, 'only the agent that asked claims its approval');
    if (call instanceof Response) return call;
    const outcome = await service.claim(call.id, { principal: call.principal.name, ...call.body });
    if (!outcome) return notFound(context, call.id);
    if (outcome.kind === 'refused') {
      metrics.refusals.inc({ code: outcome.code });
      return apiError(context, CLAIM_REFUSAL_STATUS[outcome.code], outcome.code, outcome.reason);
    }
    return context.json(outcome.request);
  });

  app.post('/v1/approvals/:id/execution/outcome', async (context) => {
    const call = await ownRequestCall(context, ReportBody, 'only the agent that ran the call reports its outcome');
    if (call instanceof Response) return call;
    const { detail, ...report } = call.body;
    const outcome = await service.report(call.id, { principal: call.principal.name, ...report, ...(detail ? { detail } : {}) });
    if (!outcome) return notFound(context, call.id);
    if (outcome.kind === 'refused') return apiError(context, 409, outcome.code, outcome.reason);
    return context.json(outcome.request);
  });

  for (const channel of options.channels ?? []) channel.routes?.(app as unknown as Hono, service);
  return app;
}
