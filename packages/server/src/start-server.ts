import type { AddressInfo } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { serve } from '@hono/node-server';
import { compilePolicy, createGuard, historyKeysOf, loadPolicy, SignoffError, type CompiledPolicy } from '@signoff/core';
import type { CallHistory } from './store/call-history.js';
import { openCallHistory } from './store/open-call-history.js';
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
import { createServer, type RequestListener } from 'node:http';
import { createApp } from './http/create-app.js';
import { createMetrics } from './http/metrics.js';
import { createCreateListener } from './http/create-listener.js';
import { createWaitListener } from './http/wait-listener.js';
import { openStore } from './store/open-store.js';
import { archiveResolved } from './retention/archive-resolved.js';
import type { Store } from './store/store.js';
import type { AuditEntry } from './audit/audit-event.js';

/** A running control plane. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  readonly service: ApprovalService;
  readonly store: Store;
  /** The call history, when the policy has history conditions or shadow rules. */
  readonly history: CallHistory | undefined;
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
  // Loading a different policy than the one last in use is audited (who, when, both hashes), so a
  // weakened policy leaves a trace. (The first policy of a new log is in every decision's policyHash.)
  const compiled = compilePolicy(policy);
  const previousPolicyHash = await lastPolicyHash(store);
  if (previousPolicyHash !== undefined && previousPolicyHash !== policy.hash) {
    await store.appendAudit([
      {
        type: 'policy.loaded',
        actor: `${safeUser()}@${hostname()}`,
        channel: 'system',
        detail: {
          policyHash: policy.hash,
          previousPolicyHash,
          file: policy.file,
          rules: policy.rules.length,
          shadowRules: policy.rules.filter((rule) => rule.mode === 'shadow').length,
          historyConditions: compiled.historyConditions.length,
        },
      },
    ]);
  }
  // Only a policy that looks at more than one call (or has shadow rules) keeps a call history.
  const history = compiled.recordsCalls ? await openCallHistory(config.store) : undefined;
  if (history) await indexHistory(history, compiled, Date.now() - config.historyRetentionMs);
  const ownersByAgent = new Map(config.apiKeys.filter((key) => key.kind === 'agent').map((key) => [key.name, key.owners]));
  const budgetByAgent = new Map(config.apiKeys.flatMap((key) => (key.kind === 'agent' && key.escalationBudget ? [[key.name, key.escalationBudget] as const] : [])));
  // Each configured channel delivers from the outbox and may serve routes of its own.
  const channels: Channel[] = [];
  // Channels show the args the deciding rule tested first, and send args too long for them to the inbox.
  const argsView = { policy, ...(config.inbox && config.publicUrl ? { inboxBaseUrl: config.publicUrl } : {}) };
  const callbacks = config.webhooks && createCallbackPolicy({ allow: config.webhooks.callbackAllow, allowAddresses: config.webhooks.callbackAllowAddresses });
  if (config.webhooks) channels.push(createWebhookChannel({ secret: config.webhooks.secret, endpoints: config.webhooks.endpoints, ...(callbacks ? { callbacks } : {}) }));
  if (config.email) channels.push(createEmailChannel({ ...config.email, ...argsView, reviewers: config.reviewers, ownersOf: (agent) => ownersByAgent.get(agent) ?? [] }));
  if (config.slack) channels.push(createSlackChannel({ ...config.slack, ...argsView, reviewers: config.reviewers, ownersOf: (agent) => ownersByAgent.get(agent) ?? [] }));
  if (config.inbox) channels.push(createInboxChannel({ ...config.inbox, policy, apiKeys: config.apiKeys, reviewers: config.reviewers, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}) }));
  const service = createApprovalService({
    store,
    guard: createGuard(policy),
    reviewers: config.reviewers,
    ownersOf: (agent) => ownersByAgent.get(agent) ?? [],
    ownedBy: (reviewer) => [...ownersByAgent].filter(([, owners]) => owners.includes(reviewer)).map(([agent]) => agent),
    defaultTimeoutMs: config.defaultTimeoutMs,
    defaultGrantTtlMs: config.grantTtlMs,
    channels,
    ...(history ? { history } : {}),
    budgetOf: (agent) => budgetByAgent.get(agent),
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
    // Long-polls and creates are answered on the raw request (see createWaitListener,
    // createCreateListener); everything else, and anything those hand over, is Hono's.
    const withRawRoutes: typeof createServer = ((serverOptions: object, listener: RequestListener) => {
      const creates = createCreateListener({ service, apiKeys: config.apiKeys, metrics, maxBodyBytes: config.maxBodyBytes, ...(callbacks ? { callbacks } : {}), fallback: listener });
      return createServer(serverOptions, createWaitListener({ service, apiKeys: config.apiKeys, metrics, fallback: creates }));
    }) as typeof createServer;
    const started = serve({ fetch: app.fetch, hostname: config.host, port: listenPort, createServer: withRawRoutes }, () => resolve(started));
    started.once('error', reject);
  }).catch(async (error: unknown) => {
    // Nothing listens: stop what already started, and say what to change instead of a stack trace.
    service.close();
    await refusals.flush();
    await dispatcher.stop();
    await store.close();
    await history?.close();
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
  const pruner = history
    ? setInterval(() => {
        history.prune(Date.now() - config.historyRetentionMs).catch((error: unknown) => console.error('signoff: pruning the call history failed (will retry)', error));
      }, PRUNE_INTERVAL_MS)
    : undefined;
  pruner?.unref();
  // Retention: one run at a time here, and one across replicas (the store's lease); a failed run
  // leaves everything in place and is tried again next time. A run that hit its cap is followed by
  // another a second later, so a backlog drains in bounded transactions with the API answering between.
  let archiving = false;
  let backlog: NodeJS.Timeout | undefined;
  const retention = config.retention;
  const archive = (): void => {
    if (!retention || archiving || closing) return;
    archiving = true;
    archiveResolved({ store, directory: retention.archiveDir, resolvedAfterMs: retention.resolvedAfterMs, maxRequests: retention.maxRequestsPerRun })
      .then((run) => {
        if (run && run.requests >= retention.maxRequestsPerRun) (backlog = setTimeout(archive, BACKLOG_PAUSE_MS)).unref();
      })
      .catch((error: unknown) => console.error('signoff: retention run failed (will retry)', error))
      .finally(() => (archiving = false));
  };
  const archiver = retention && setInterval(archive, retention.intervalMs);
  archiver?.unref();

  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host}:${port}`,
    service,
    store,
    history,
    dispatcher,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        clearInterval(pruner);
        clearInterval(archiver);
        clearTimeout(backlog);
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
        await history?.close();
      })();
      return closing;
    },
  };
}

const PRUNE_INTERVAL_MS = 60_000;
const BACKLOG_PAUSE_MS = 1_000;

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Indexes the retained calls for this policy's history conditions: a policy with a new `per` (or a
 * new tool in `after:`) finds the calls recorded under the previous policy too, rather than
 * under-counting until the window refills.
 */
async function indexHistory(history: CallHistory, compiled: CompiledPolicy, since: number): Promise<void> {
  let after: { at: number; id: string } | undefined;
  for (;;) {
    const page = await history.list(since, { ...(after ? { after } : {}), limit: 1_000 });
    await history.index(page.map((call) => ({ id: call.id, at: call.at, keys: historyKeysOf(compiled, call) })));
    const last = page.at(-1);
    if (!last || page.length < 1_000) return;
    after = { at: last.at, id: last.id };
  }
}

/** Entries read per page while looking back for the policy last in use. */
const AUDIT_PAGE = 1_000;

/**
 * The hash of the policy the log shows last in use: the newest `policy.loaded`, or else the newest
 * decision's `policyHash`. Reads back from the head a page at a time; `undefined` for a log that
 * names no policy yet.
 */
async function lastPolicyHash(store: Store): Promise<string | undefined> {
  const head = await store.readAuditHead();
  let end = head?.sequence ?? 0;
  while (end > 0) {
    const start = Math.max(0, end - AUDIT_PAGE);
    const page = await store.readAuditPage(start, end - start);
    for (let index = page.length - 1; index >= 0; index -= 1) {
      const hash = (page[index] as AuditEntry).detail.policyHash;
      if (typeof hash === 'string') return hash;
    }
    end = start;
  }
  return undefined;
}
