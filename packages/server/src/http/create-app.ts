import { getConnInfo } from '@hono/node-server/conninfo';
import { limitBody } from './limit-body.js';
import type { CallbackPolicy } from '../channels/callback-policy.js';
import { createRefusalLimiter, type RefusalLimiter } from './refusal-limiter.js';
import { Hono, type Context } from 'hono';
import type * as z from 'zod';
import type { ApprovalRequest } from '@signoff/core';
import type { ApprovalService, Principal } from '../approval-service.js';
import type { AuditEventInput } from '../audit/audit-event.js';
import type { Channel } from '../channels/channel.js';
import type { ApiKey } from '../config/server-config.js';
import { REFUSAL_STATUS } from '../engine/apply-decision.js';
import type { ClaimRefusalCode } from '../engine/claim-execution.js';
import { apiError, depthExceeds, failureOf, invalidRequest, MAX_JSON_DEPTH } from './api-error.js';
import { ClaimBody, CreateApprovalBody, DecisionBody, ListQuery, RecordCallsBody, ReportBody, WaitQuery } from './api-schemas.js';
import { answerCreate } from './create-listener.js';
import { createMetrics } from './metrics.js';
import { createPrincipalResolver } from './resolve-principal.js';
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

const CLAIM_REFUSAL_STATUS: Record<ClaimRefusalCode, 409> = {
  NOT_GRANTED: 409,
  ALREADY_EXECUTED: 409,
  GRANT_EXPIRED: 409,
  ARGS_MISMATCH: 409,
  POLICY_CHANGED: 409,
};
const APPROVAL_ID = /^apr_[\w-]{10,40}$/;

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
  const principalOf = createPrincipalResolver(service, options.apiKeys);
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
    const failure = failureOf(error, metrics);
    return context.json(failure.body, failure.status);
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
    const header = context.req.header('authorization');
    const principal = principalOf(header);
    if (!principal) {
      const reason = /^Bearer ([\x21-\x7e]{16,512})$/.test(header ?? '') ? 'unknown API key' : 'missing or malformed Authorization: Bearer <api key>';
      return refuseAccess(context, { status: 401, code: 'UNAUTHENTICATED', message: reason });
    }
    context.set('principal', principal);
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
    const { callbackUrl } = parsed.data;
    if (callbackUrl && !options.callbacks) {
      return apiError(context, 400, 'CALLBACKS_DISABLED', 'callbackUrl needs webhooks configured on the server (webhooks.secret)', 'callbackUrl');
    }
    // Agents choose callback URLs: only allow-listed origins, never an internal address unless listed (SSRF).
    const callbackProblem = callbackUrl ? options.callbacks?.problem(callbackUrl) : undefined;
    if (callbackProblem) return refuseAccess(context, { status: 400, code: 'CALLBACK_NOT_ALLOWED', message: callbackProblem, field: 'callbackUrl' });
    const answer = await answerCreate(service, metrics, principal, parsed.data);
    return context.json(answer.body, answer.status, answer.headers);
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
