import * as z from 'zod';
import { CreateApprovalBody, DecisionBody } from './api-schemas.js';

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
  409: 'Already resolved, expired (late decision), or this reviewer already decided (recorded); or STATE_TAMPERED: the stored request does not match its audit log (refused, fail-closed)',
  413: 'Body too large',
  422: 'Edited args that the policy denies (recorded)',
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
          status: { enum: ['pending', 'approved', 'denied', 'expired'] },
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
        },
      },
      CreateApproval: schema(CreateApprovalBody),
      Decision: schema(DecisionBody),
    },
  },
  security: [{ apiKey: [] }],
  paths: {
    '/v1/approvals': {
      post: {
        summary: 'Ask for approval of a tool call (agent key). The server policy decides what it needs.',
        requestBody: { required: true, ...json({ $ref: '#/components/schemas/CreateApproval' }) },
        responses: { 201: { description: 'Created', ...json(request) }, 200: { description: 'Replay of an idempotency key: the existing request', ...json(request) }, ...errors(400, 401, 403, 409, 413) },
      },
      get: {
        summary: 'List requests (agents: their own). Filters: status, tool, actionable=true (reviewer keys), limit.',
        responses: { 200: { description: 'Newest first', ...json({ type: 'object', properties: { data: { type: 'array', items: request } } }) }, ...errors(400, 401, 403, 409) },
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
    '/v1/health': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'ok' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text/plain exposition format' } } } },
  },
} as const;
