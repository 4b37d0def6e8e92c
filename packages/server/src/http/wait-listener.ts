import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ApprovalService, Principal } from '../approval-service.js';
import type { ApiKey } from '../config/server-config.js';
import { WaitQuery } from './api-schemas.js';
import type { createMetrics } from './metrics.js';
import { createPrincipalResolver } from './resolve-principal.js';

export interface WaitListenerOptions {
  readonly service: ApprovalService;
  readonly apiKeys: readonly ApiKey[];
  /** The app's metrics, so `signoff_waiting_clients` counts these waits too. */
  readonly metrics: ReturnType<typeof createMetrics>;
  /** The Hono app's listener: every request this one does not answer itself goes there, untouched. */
  readonly fallback: RequestListener;
}

const WAIT_URL = /^\/v1\/approvals\/(apr_[\w-]{10,40})\/wait(?:\?(timeout=[0-9.]{1,12}))?$/;

/**
 * `GET /v1/approvals/:id/wait` on the raw `node:http` request, before Hono: a long-poll holds its
 * connection for up to a minute, and the Web `Request`, Hono context and their promise chains cost
 * ~20 KB per waiting client where the wait itself needs a few hundred bytes.
 *
 * Only the plain success path is answered here: a valid key, at most a `timeout` query, no body, a
 * request the key may see. Anything else (a refusal, a malformed query, an unknown id, an error
 * before the answer) is handed to the Hono app before a byte is written, so its auth, validation,
 * error bodies, audit of refusals and limits apply unchanged. The answers are the Hono route's:
 * 200 with the request (resolved or still pending at the timeout), 503 + `Retry-After` on shutdown.
 *
 * @example
 * serve({ fetch: app.fetch, port, createServer: (options, listener) => http.createServer(options, createWaitListener({ service, apiKeys, metrics, fallback: listener })) });
 */
export function createWaitListener(options: WaitListenerOptions): RequestListener {
  const { service, metrics, fallback } = options;
  const principalOf = createPrincipalResolver(service, options.apiKeys);

  async function answer(request: IncomingMessage, response: ServerResponse, id: string, principal: Principal, timeoutSeconds: number): Promise<void> {
    let outcome: Awaited<ReturnType<ApprovalService['waitForResolution']>>;
    try {
      metrics.waiting.inc();
      try {
        // Agents see their own requests, reviewers all (as in the Hono app), checked on the wait's
        // own first read: one read per arrival, not two. Not visible → undefined → the Hono app's 404.
        outcome = await service.waitForResolution(id, timeoutSeconds * 1000, (current) => principal.kind === 'reviewer' || current.requester === principal.name);
      } finally {
        metrics.waiting.dec();
      }
    } catch {
      // Nothing is written yet: the Hono route does it again and maps the error as every route does.
      return fallback(request, response);
    }
    if (!outcome) return fallback(request, response);
    if (outcome.ended === 'shutdown') {
      send(response, 503, { error: { code: 'SHUTTING_DOWN', message: 'the server is stopping; retry the wait' } }, { 'retry-after': '1' });
      return;
    }
    send(response, 200, outcome.request);
  }

  return (request, response) => {
    const match = request.method === 'GET' ? WAIT_URL.exec(request.url ?? '') : null;
    const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
    const principal = match && !hasBody ? principalOf(request.headers.authorization) : undefined;
    const query = principal && WaitQuery.safeParse(match?.[2] === undefined ? {} : { timeout: match[2].slice('timeout='.length) });
    if (!match || !principal || !query?.success) return fallback(request, response);
    answer(request, response, match[1] as string, principal, query.data.timeout).catch(() => response.destroy());
  };
}

/** Writes a JSON answer in one piece, as the Hono app's `context.json` would. */
export function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
  response.end(json);
}
