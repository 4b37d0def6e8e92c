import * as z from 'zod';
import { ClaimBody, CreateApprovalBody, DecisionBody, RecordCallsBody, ReportBody } from './api-schemas.js';

const schema = (type: z.ZodType) => z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
const error = { $ref: '#/components/schemas/Error' };
const request = { $ref: '#/components/schemas/ApprovalRequest' };
const json = (content: object) => ({ content: { 'application/json': { schema: content } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { description: ERROR_DESCRIPTIONS[code], ...json(error) }]));
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid body or query; `error.field` names the field',
  401: 'Missing or unknown API key (recorded in the audit log)',
  403: 'Wrong kind of key, self-approval, or a reviewer without a required role (recorded)',
  404: 'No such request visible to this key',
  409: 'Refused and recorded: already resolved, expired (late decision), this reviewer already decided, the args changed since the reviewer saw them (ARGS_CHANGED), an idempotency key reused for another call (IDEMPOTENCY_CONFLICT), a claim of a grant that is used (ALREADY_EXECUTED), not granted, past its use-by time, for other args, or from another policy; or STATE_TAMPERED: the stored request does not match its audit log (refused, fail-closed)',
  413: 'Body too large',
  422: 'Edited args that the policy denies (recorded)',
  429: 'Too many refused requests from this address or key this minute (TOO_MANY_REFUSALS; see Retry-After); or, on create, the agent key is over its escalation budget (ESCALATION_BUDGET_EXCEEDED: max_pending or max_escalations_per_hour; recorded; do not retry now — the call is denied)',
  503: 'Server shutting down; retry',
};
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^apr_[\\w-]{10,40}$' } };

/** The OpenAPI 3.1 description of the `/v1` API, served at `/v1/openapi.json`; bodies come from the zod schemas the server validates with. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Signoff control plane', version: '1', description: 'Human approval of AI agent tool calls. Authenticate with `Authorization: Bearer <api key>`.' },
  components: {
    securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } },
      },
      ApprovalRequest: {
        type: 'object',
        description: 'See ApprovalRequest in @signoff/core (src/spec/approval-request.ts).',
        required: ['id', 'tool', 'args', 'argsHash', 'status', 'granted', 'approvedArgs', 'approvedArgsHash', 'decisions', 'requirements', 'createdAt', 'expiresAt'],
        properties: {
          id: { type: 'string' },
          tool: { type: 'string' },
          args: {},
          argsHash: { type: 'string' },
          status: { enum: ['pending', 'approved', 'denied', 'expired', 'executed'] },
          granted: { type: 'boolean' },
          approvedArgs: {},
          approvedArgsHash: { type: 'string' },
          reason: { type: 'string' },
          ruleId: { type: ['string', 'null'] },
          requirements: { type: 'object' },
          decisions: { type: 'array', items: { type: 'object' } },
          resolution: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
          expiresAt: { type: 'string', format: 'date-time' },
          resolvedAt: { type: 'string', format: 'date-time' },
          alsoRequired: { type: 'array', items: { type: 'object' }, description: 'Requirements of rules the request was under before an edit; approvals must meet them too' },
          execution: {
            type: 'object',
            description: 'The single use of the grant (status executed)',
            properties: { claimedAt: { type: 'string', format: 'date-time' }, claimedBy: { type: 'string' }, nonce: { type: 'string' }, argsHash: { type: 'string' }, outcome: { enum: ['succeeded', 'failed'] }, reportedAt: { type: 'string', format: 'date-time' } },
          },
        },
      },
      CreateApproval: schema(CreateApprovalBody),
      Decision: schema(DecisionBody),
      Claim: schema(ClaimBody),
      ExecutionReport: schema(ReportBody),
    },
  },
  security: [{ apiKey: [] }],
  paths: {
    '/v1/approvals': {
      post: {
        summary: 'Ask for approval of a tool call (agent key). The server policy decides what it needs.',
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/CreateApproval' }) },
        responses: {
          201: { description: 'Created', ...json(request) },
          200: {
            description:
              'Replay of an idempotency key for the same tool and args, or the identical call (same agent key, tool and args hash) already pending under another key (header `signoff-deduplicated: true`): the existing request. A shared approval still runs once: the second claim gets 409 ALREADY_EXECUTED.',
            ...json(request),
          },
          ...errors(400, 401, 403, 409, 413, 429),
        },
      },
      get: {
        summary: 'List requests (agents: their own). Filters: status, tool, actionable=true (reviewer keys), limit; order=newest (default) or deadline (soonest expiresAt first); cursor = nextCursor of the page before.',
        responses: {
          200: { description: 'Newest first; nextCursor continues after a full page (null when there is no more)', ...json({ type: 'object', properties: { data: { type: 'array', items: request }, nextCursor: { type: ['string', 'null'] } } }) },
          ...errors(400, 401, 403, 409),
        },
      },
    },
    '/v1/approvals/{id}': {
      get: { summary: 'Read one request (an overdue one expires on read)', parameters: [idParameter], responses: { 200: { description: 'The request', ...json(request) }, ...errors(401, 404, 409) } },
    },
    '/v1/approvals/{id}/wait': {
      get: {
        summary: 'Long-poll: returns as soon as the request resolves, or after `timeout` seconds (≤ 60) with it still pending',
        parameters: [idParameter, { name: 'timeout', in: 'query', schema: { type: 'number', minimum: 0, maximum: 60, default: 30 } }],
        responses: { 200: { description: 'The request', ...json(request) }, ...errors(400, 401, 404, 409, 503) },
      },
    },
    '/v1/approvals/{id}/decision': {
      post: {
        summary: 'Approve or deny (reviewer key), optionally with edited args',
        parameters: [idParameter],
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/Decision' }) },
        responses: { 200: { description: 'The request after the decision', ...json(request) }, ...errors(400, 401, 403, 404, 409, 413, 422) },
      },
    },
    '/v1/approvals/{id}/execution': {
      post: {
        summary:
          'Claim a granted request for one execution, just before running the call (agent key of the requester): atomically approved → executed. A retry with the same nonce gets the same answer; any other claim is 409 ALREADY_EXECUTED. Run exactly `approvedArgs` of the answer.',
        parameters: [idParameter],
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/Claim' }) },
        responses: { 200: { description: 'Claimed (status executed)', ...json(request) }, ...errors(400, 401, 403, 404, 409, 413) },
      },
    },
    '/v1/approvals/{id}/execution/outcome': {
      post: {
        summary: 'Report how a claimed call ended (agent key of the requester; optional, audited)',
        parameters: [idParameter],
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/ExecutionReport' }) },
        responses: { 200: { description: 'Recorded', ...json(request) }, ...errors(400, 401, 403, 404, 409, 413) },
      },
    },
    '/v1/calls': {
      post: {
        summary:
          'Report calls the agent allowed on its own (agent key), for the call history that window / after: conditions are judged over. A retried report (same id) is recorded once; nothing is recorded when the policy needs no history.',
        requestBody: { required: true, ...json(schema(RecordCallsBody)) },
        responses: { 202: { description: 'Taken: `{ recorded }` calls', ...json({ type: 'object', properties: { recorded: { type: 'integer' } } }) }, ...errors(400, 401, 403, 413) },
      },
    },
    '/v1/health': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'ok' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text/plain exposition format' } } } },
  },
} as const;
