import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createGuard, loadPolicy, SignoffError } from '@signoff/core';
import { createApprovalService, type ApprovalService } from './approval-service.js';
import { createRefusalLimiter } from './http/refusal-limiter.js';
import type { ServerConfig } from './config/server-config.js';
import type { Channel } from './channels/channel.js';
import { startAuditHeadPublisher } from './channels/audit-head-publisher.js';
import { startOutboxDispatcher, type OutboxDispatcher } from './channels/outbox-dispatcher.js';
import { createEmailChannel } from './channels/email/email-channel.js';
import { createSlackChannel } from './channels/slack/slack-channel.js';
import { createInboxChannel } from './channels/inbox/inbox-channel.js';
import { createWebhookChannel } from './channels/webhook-channel.js';
import { createCallbackPolicy } from './channels/callback-policy.js';
import { createServer } from 'node:http';
import { createApp } from './http/create-app.js';
import { createMetrics } from './http/metrics.js';
import { createWaitListener } from './http/wait-listener.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

/** A running control plane. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  readonly service: ApprovalService;
  readonly store: Store;
  /** Delivers webhook (and later Slack, email) messages from the outbox. */
  readonly dispatcher: OutboxDispatcher;
  /** Graceful stop: no new connections, in-flight requests finish, waiting clients get a retryable 503. */
  close(): Promise<void>;
}

/**
 * Starts the control plane a config describes: loads the policy (checked against the configured
 * reviewers), opens the store, serves the API, and sweeps overdue requests.
 *
 * @example
 * const server = await startServer(loadServerConfig('signoff.yaml'));
 * process.on('SIGTERM', () => server.close());
 */
export async function startServer(config: ServerConfig, overrides: { port?: number; store?: Store } = {}): Promise<RunningServer> {
  const policy = loadPolicy(config.policyFile, { reviewers: config.reviewers });
  const store = overrides.store ?? (await openStore(config.store));
  const ownersByAgent = new Map(config.apiKeys.filter((key) => key.kind === 'agent').map((key) => [key.name, key.owners]));
  // Each configured channel delivers from the outbox and may serve routes of its own.
  const channels: Channel[] = [];
  // Channels show the args the deciding rule tested first, and send args too long for them to the inbox.
  const argsView = { policy, ...(config.inbox && config.publicUrl ? { inboxBaseUrl: config.publicUrl } : {}) };
  const callbacks = config.webhooks && createCallbackPolicy({ allow: config.webhooks.callbackAllow, allowAddresses: config.webhooks.callbackAllowAddresses });
  if (config.webhooks) channels.push(createWebhookChannel({ secret: config.webhooks.secret, endpoints: config.webhooks.endpoints, ...(callbacks ? { callbacks } : {}) }));
  if (config.email) channels.push(createEmailChannel({ ...config.email, ...argsView, reviewers: config.reviewers, ownersOf: (agent) => ownersByAgent.get(agent) ?? [] }));
  if (config.slack) channels.push(createSlackChannel({ ...config.slack, ...argsView, reviewers: config.reviewers, ownersOf: (agent) => ownersByAgent.get(agent) ?? [] }));
  if (config.inbox) channels.push(createInboxChannel({ ...config.inbox, policy, apiKeys: config.apiKeys, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}) }));
  const service = createApprovalService({
    store,
    guard: createGuard(policy),
    reviewers: config.reviewers,
    ownersOf: (agent) => ownersByAgent.get(agent) ?? [],
    defaultTimeoutMs: config.defaultTimeoutMs,
    defaultGrantTtlMs: config.grantTtlMs,
    channels,
  });
  const refusals = createRefusalLimiter({
    record: (events) => service.recordRefusals(events),
    auditedPerWindow: config.refusalLimits.auditedPerMinute,
    answeredPerWindow: config.refusalLimits.answeredPerMinute,
  });
  const metrics = createMetrics();
  const app = createApp({ service, apiKeys: config.apiKeys, maxBodyBytes: config.maxBodyBytes, ...(callbacks ? { callbacks } : {}), channels, refusals, metrics });
  const dispatcher = startOutboxDispatcher({
    store,
    channels,
    ...(config.webhooks
      ? { giveUpAfterMs: config.webhooks.giveUpAfterMs, retryDelayMs: config.webhooks.firstRetryMs, leaseMs: config.webhooks.leaseMs }
      : {}),
  });

  const listenPort = overrides.port ?? config.port;
  // Witnesses that record the chain head can later show that its newest entries were cut.
  const headPublisher =
    config.webhooks?.publishHeadMs !== undefined && config.webhooks.endpoints.length > 0
      ? startAuditHeadPublisher({ store, channel: 'webhook', targets: config.webhooks.endpoints, intervalMs: config.webhooks.publishHeadMs })
      : undefined;

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    // Long-polls are answered on the raw request (see createWaitListener); everything else is Hono's.
    const withWaits: typeof createServer = ((serverOptions: object, listener: Parameters<typeof createWaitListener>[0]['fallback']) =>
      createServer(serverOptions, createWaitListener({ service, apiKeys: config.apiKeys, metrics, fallback: listener }))) as typeof createServer;
    const started = serve({ fetch: app.fetch, hostname: config.host, port: listenPort, createServer: withWaits }, () => resolve(started));
    started.once('error', reject);
  }).catch(async (error: unknown) => {
    // Nothing listens: stop what already started, and say what to change instead of a stack trace.
    service.close();
    await refusals.flush();
    await dispatcher.stop();
    await store.close();
    const code = (error as { code?: string }).code;
    const where = `${config.host}:${listenPort}`;
    const why =
      code === 'EADDRINUSE' ? `${where} is already in use (another signoff serve?): stop it, or change listen in ${config.file}`
      : code === 'EACCES' ? `no permission to listen on ${where} (ports below 1024 need privileges): change listen in ${config.file}`
      : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? `${config.host} is not an address of this machine: change listen in ${config.file}`
      : `cannot listen on ${where}: ${(error as Error).message}`;
    throw new SignoffError('CONFIG_INVALID', why, { cause: error });
  });
  const { port } = server.address() as AddressInfo;

  const sweeper = setInterval(() => {
    service.sweep().catch((error: unknown) => console.error('signoff: sweep failed (will retry)', error));
  }, config.sweepIntervalMs);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host}:${port}`,
    service,
    store,
    dispatcher,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        service.close(); // releases long-polls, so the server can finish its in-flight requests
        // Keep-alive connections hold close() open; drop each as soon as its last response is out.
        const dropIdle = setInterval(() => 'closeIdleConnections' in server && server.closeIdleConnections(), 20);
        await stopped;
        clearInterval(dropIdle);
        await refusals.flush().catch((error: unknown) => console.error('signoff: writing refusal summaries failed', error));
        await headPublisher?.stop();
        await dispatcher.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
