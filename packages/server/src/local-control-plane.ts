import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { makePrivateDirectory, writePrivateFile } from './config/private-files.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ApprovalRequest } from '@signoff/core';
import { stringify } from 'yaml';
import { loadServerConfig, sha256Hex } from './config/server-config.js';
import type { Reviewer } from './engine/reviewer.js';
import { startServer, type RunningServer } from './start-server.js';
import type { Store } from './store/store.js';

export interface LocalControlPlaneOptions {
  /** The server policy: a file path, or YAML text. */
  readonly policy: string;
  /** Reviewers (default: ana/finance, sam/security, lee/engineering-lead). */
  readonly reviewers?: readonly Reviewer[];
  /** Where the SQLite file and config go; default a temp folder removed on close. */
  readonly directory?: string;
  readonly port?: number;
  readonly defaultTimeoutMinutes?: number;
  /** How often overdue requests are swept (default 1 s). */
  readonly sweepIntervalSeconds?: number;
  /** Use this store instead of a SQLite file in `directory` (e.g. a PostgreSQL store). */
  readonly store?: Store;
  /**
   * Signed webhooks: the `whsec_…` secret, endpoints for every event, the first retry delay, how often
   * to publish the audit head, and the origins agents' `callbackUrl`s may use (`webhooks.callback_allow`).
   */
  readonly webhooks?: {
    readonly secret: string;
    readonly endpoints?: readonly string[];
    readonly firstRetrySeconds?: number;
    readonly publishHeadMinutes?: number;
    readonly callbackAllow?: readonly string[];
  };
  /** Serve the web inbox at `<url>/inbox` (plain-http loopback, so cookies are not `Secure`); reviewers sign in with `reviewerKey(id)`. */
  readonly inbox?: {
    readonly sessionSecret?: string;
    /** The config's `inbox.oidc` section as written in YAML (snake_case); needs `publicUrl`. */
    readonly oidc?: Readonly<Record<string, unknown>>;
  };
  /** The config's `public_url` (pick `port` too, so it is where the server listens). */
  readonly publicUrl?: string;
}

/** A control plane running in this process, for examples, demos and adapter tests. */
export interface LocalControlPlane extends RunningServer {
  /** Where its config and SQLite database live (0700; the files 0600). */
  readonly directory: string;
  /** The agent API key (principal `agent`). */
  readonly agentKey: string;
  readonly reviewers: readonly Reviewer[];
  /** The API key of a reviewer. */
  reviewerKey(reviewerId: string): string;
  /** Decides as a reviewer through the HTTP API (the same path Slack, email and the inbox take). */
  decide(approvalId: string, reviewerId: string, verdict: 'approve' | 'deny', extra?: { comment?: string; args?: unknown }): Promise<ApprovalRequest>;
  /** Pending requests a reviewer can act on, newest first. */
  actionable(reviewerId: string): Promise<ApprovalRequest[]>;
}

const DEFAULT_REVIEWERS: readonly Reviewer[] = [
  { id: 'ana', name: 'Ana Lima', roles: ['finance'] },
  { id: 'sam', name: 'Sam Okafor', roles: ['security'] },
  { id: 'lee', name: 'Lee Chen', roles: ['engineering-lead'] },
];

/**
 * Starts a real control plane (HTTP API, SQLite store, sweeper) on loopback with generated keys.
 *
 * @example
 * const controlPlane = await startLocalControlPlane({ policy: './policy.yaml' });
 * const signoff = createSignoff({ policy: './policy.yaml', controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
 */
export async function startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'signoff-local-'));
  makePrivateDirectory(directory); // the config holds the inbox session secret; the database, every approval
  // A database left by an older version may be readable by others: it is ours, make it private too.
  for (const file of ['signoff.db', 'signoff.db-wal', 'signoff.db-shm']) if (existsSync(join(directory, file))) chmodSync(join(directory, file), 0o600);
  const reviewers = options.reviewers ?? DEFAULT_REVIEWERS;
  const newKey = () => `sk_signoff_${randomBytes(18).toString('base64url')}`;
  const agentKey = newKey();
  const reviewerKeys = new Map(reviewers.map((reviewer) => [reviewer.id, newKey()]));

  const policyIsFile = !options.policy.includes('\n') && existsSync(options.policy);
  const policyFile = policyIsFile ? resolve(options.policy) : join(directory, 'policy.yaml');
  if (!policyIsFile) writePrivateFile(policyFile, options.policy);
  const configFile = join(directory, 'signoff.yaml');
  writePrivateFile(
    configFile,
    stringify({
      policy: policyFile,
      store: 'sqlite:./signoff.db',
      listen: `127.0.0.1:${options.port ?? 0}`,
      default_timeout_minutes: options.defaultTimeoutMinutes ?? 60,
      sweep_interval_seconds: options.sweepIntervalSeconds ?? 1,
      ...(options.webhooks
        ? {
            webhooks: {
              secret: options.webhooks.secret,
              endpoints: options.webhooks.endpoints ?? [],
              first_retry_seconds: options.webhooks.firstRetrySeconds ?? 1,
              ...(options.webhooks.publishHeadMinutes === undefined ? {} : { publish_head_minutes: options.webhooks.publishHeadMinutes }),
              ...(options.webhooks.callbackAllow ? { callback_allow: options.webhooks.callbackAllow } : {}),
            },
          }
        : {}),
      ...(options.publicUrl ? { public_url: options.publicUrl } : {}),
      ...(options.inbox ? { inbox: { session_secret: options.inbox.sessionSecret ?? randomBytes(32).toString('base64url'), secure_cookies: false, ...(options.inbox.oidc ? { oidc: options.inbox.oidc } : {}) } } : {}),
      reviewers: reviewers.map(({ slackUserId, ...reviewer }) => ({ ...reviewer, ...(slackUserId ? { slack_user_id: slackUserId } : {}) })),
      api_keys: [
        { name: 'agent', kind: 'agent', key_sha256: sha256Hex(agentKey) },
        ...reviewers.map((reviewer) => ({ name: reviewer.id, kind: 'reviewer', reviewer: reviewer.id, key_sha256: sha256Hex(reviewerKeys.get(reviewer.id) as string) })),
      ],
    }),
  );
  const server = await startServer(loadServerConfig(configFile), options.store ? { store: options.store } : {});

  const reviewerKey = (reviewerId: string): string => {
    const key = reviewerKeys.get(reviewerId);
    if (!key) throw new Error(`no reviewer ${reviewerId} in this control plane`);
    return key;
  };
  const call = async (reviewerId: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${reviewerKey(reviewerId)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as { error?: { code: string; message: string } };
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${json.error?.code}: ${json.error?.message}`);
    return json;
  };

  return {
    ...server,
    directory,
    agentKey,
    reviewers,
    reviewerKey,
    async decide(approvalId, reviewerId, verdict, extra = {}) {
      return (await call(reviewerId, 'POST', `/v1/approvals/${approvalId}/decision`, { verdict, ...extra })) as ApprovalRequest;
    },
    async actionable(reviewerId) {
      return ((await call(reviewerId, 'GET', '/v1/approvals?actionable=true')) as { data: ApprovalRequest[] }).data;
    },
    async close() {
      await server.close();
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
