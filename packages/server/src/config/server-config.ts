import { hash as oneShotHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { formatPolicyIssue, parseDuration, SignoffError, strictMapping, validateYaml, type ValidateYamlOptions } from '@signoff/core';
import { isIP } from 'node:net';
import * as z from 'zod';
import { callbackAllowEntryProblem } from '../channels/callback-policy.js';
import type { Reviewer } from '../engine/reviewer.js';
import type { OidcSignInOptions } from '../channels/inbox/oidc-sign-in.js';

/** `10.20.0.0/16`, `fd00::/8` or a single address. */
function isCidr(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits >= 0 && bits <= (family === 6 ? 128 : 32);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

const EmailDigestSchema = strictMapping(
  {
    address: z.email({ error: 'expected an email address' }),
    digest_minutes: z.number({ error: 'expected a number of minutes' }).positive().max(1_440).optional(),
  },
  'reviewer email key',
);

/** How many escalations an agent key may have open at once and start per hour; beyond them a call is refused. */
const EscalationBudgetSchema = strictMapping(
  {
    max_pending: z.number({ error: 'expected a whole number' }).int('expected a whole number').min(1).max(1_000_000).optional(),
    max_escalations_per_hour: z.number({ error: 'expected a whole number' }).int('expected a whole number').min(1).max(1_000_000).optional(),
  },
  'escalation_budget key',
);

const ReviewerSchema = strictMapping(
  {
    id: z.string({ error: 'expected a reviewer id' }).regex(/^[\w.@-]+$/, 'expected an id of letters, digits and _ . @ -'),
    name: z.string({ error: 'expected a name' }).min(1),
    roles: z.array(z.string().min(1), { error: 'expected a list of roles' }).default([]),
    // A plain address, or `{ address, digest_minutes }` for one digest mail per N minutes instead of one per request.
    email: z.union([z.email({ error: 'expected an email address' }), EmailDigestSchema], { error: 'expected an email address, or { address, digest_minutes }' }).optional(),
    slack_user_id: z.string({ error: 'expected a Slack user id like U012AB3CD' }).optional(),
  },
  'reviewer key',
);

const ApiKeySchema = strictMapping(
  {
    name: z.string({ error: 'expected a name for the key (the agent principal)' }).min(1),
    kind: z.enum(['agent', 'reviewer'], { error: 'expected agent or reviewer' }),
    reviewer: z.string({ error: 'expected the id of the reviewer this key belongs to' }).optional(),
    owners: z.array(z.string(), { error: 'expected a list of reviewer ids' }).default([]),
    key_sha256: z.string({ error: 'expected a sha256 hex digest' }).regex(SHA256_HEX, 'expected 64 lowercase hex characters (sha256 of the key)').optional(),
    key_env: z.string({ error: 'expected an environment variable name' }).regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name like SIGNOFF_AGENT_KEY').optional(),
    escalation_budget: EscalationBudgetSchema.optional(),
  },
  'api key field',
);

const WebhooksSchema = strictMapping(
  {
    secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'expected a Standard Webhooks secret: whsec_ followed by base64').optional(),
    secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    endpoints: z.array(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }), { error: 'expected a list of URLs' }).default([]),
    give_up_after_hours: z.number({ error: 'expected a number of hours' }).positive().max(24 * 30).default(24),
    first_retry_seconds: z.number({ error: 'expected a number of seconds' }).positive().max(3_600).default(1),
    lease_seconds: z.number({ error: 'expected a number of seconds' }).positive().max(3_600).default(60),
    publish_head_minutes: z.number({ error: 'expected a number of minutes' }).positive().max(1_440).optional(),
    callback_allow: z
      .array(z.string().superRefine((entry, context) => {
        const problem = callbackAllowEntryProblem(entry);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }), { error: 'expected a list of origins' })
      .default([]),
    callback_allow_addresses: z
      .array(z.string().refine((cidr) => isCidr(cidr), 'expected an address or CIDR range, e.g. 10.20.0.0/16'), { error: 'expected a list of CIDR ranges' })
      .default([]),
  },
  'webhooks key',
);

const EmailSchema = strictMapping(
  {
    smtp_url: z.string().regex(/^smtps?:\/\/.+/, 'expected smtp://user:pass@host:587 or smtps://…').optional(),
    smtp_url_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    from: z.string({ error: 'expected the sender, e.g. Signoff <signoff@example.com>' }).regex(/^([^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, 'expected an address, e.g. Signoff <signoff@example.com>'),
    link_secret: z.string().refine((secret) => Buffer.byteLength(secret, 'utf8') >= 32, 'expected at least 32 bytes (e.g. openssl rand -base64 32)').optional(),
    link_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    link_ttl_minutes: z.number({ error: 'expected a number of minutes' }).positive().max(43_200).optional(),
  },
  'email key',
);

const OidcSchema = strictMapping(
  {
    issuer: z.url({ protocol: /^https?$/, error: 'expected the issuer URL, e.g. https://login.example.com/realms/acme' }),
    client_id: z.string({ error: 'expected the client id registered at the provider' }).min(1),
    client_secret: z.string().min(1).optional(),
    client_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    redirect_path: z.string().regex(/^\/inbox\/[\w/-]+$/, 'expected a path under /inbox/, e.g. /inbox/oidc/callback').default('/inbox/oidc/callback'),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'expected a scope name'), { error: 'expected a list of scopes' }).default(['openid', 'email']),
    map_by: z.enum(['email', 'sub'], { error: 'expected email or sub' }).default('email'),
    reviewers: z.record(z.string().min(1), z.string({ error: 'expected a reviewer id' }), { error: 'expected a mapping of email or sub to reviewer id' }).default({}),
    allow_unverified_email: z.boolean({ error: 'expected true or false' }).default(false),
    label: z.string().min(1).max(80).optional(),
  },
  'inbox.oidc key',
);

const InboxSchema = strictMapping(
  {
    session_secret: z.string().refine((secret) => Buffer.byteLength(secret, 'utf8') >= 32, 'expected at least 32 bytes (e.g. openssl rand -base64 32)').optional(),
    session_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    session_hours: z.number({ error: 'expected a number of hours' }).positive().max(24 * 30).default(12),
    secure_cookies: z.boolean({ error: 'expected true or false' }).optional(),
    oidc: OidcSchema.optional(),
  },
  'inbox key',
);

const SlackSchema = strictMapping(
  {
    bot_token: z.string().regex(/^(xoxe\.)?xoxb-[\w-]+$/, 'expected a bot token (xoxb-…)').optional(),
    bot_token_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    signing_secret: z.string().regex(/^\S{16,}$/, "expected the app's signing secret (Basic Information → App Credentials)").optional(),
    signing_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    channel: z
      .string({ error: 'expected the ID of the channel to post approvals in, e.g. C0123456789' })
      .regex(/^[CG][A-Z0-9]{6,}$/, 'expected a channel ID like C0123456789, not a #name (channel details → About → Channel ID)'),
    api_url: z.url({ protocol: /^https?$/, error: 'expected the Slack Web API base URL, e.g. https://slack.com/api/' }).default('https://slack.com/api/'),
    team_id: z.string().regex(/^[TE][A-Z0-9]{6,}$/, 'expected a workspace ID like T0123456789').optional(),
  },
  'slack key',
);

const RetentionSchema = strictMapping(
  {
    resolved_after_days: z.number({ error: 'expected a number of days' }).positive().max(36_500),
    archive_dir: z.string({ error: 'expected the directory archive files are written to' }).min(1),
    interval_minutes: z.number({ error: 'expected a number of minutes' }).positive().max(10_080).default(60),
    max_requests_per_run: z.number({ error: 'expected a whole number' }).int().min(1).max(1_000_000).default(10_000),
  },
  'retention key',
);

const ConfigSchema = strictMapping(
  {
    policy: z.string({ error: 'expected the path of the policy file' }),
    store: z
      .string({ error: 'expected sqlite:<file> or postgres://…' })
      .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected sqlite:<file> or postgres://…')
      .default('sqlite:./signoff.db'),
    listen: z
      .string({ error: 'expected host:port' })
      .regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8787')
      .default('127.0.0.1:8787'),
    public_url: z.url({ error: 'expected the URL reviewers reach this server at' }).optional(),
    default_timeout_minutes: z.number({ error: 'expected a number of minutes' }).positive().max(43_200).default(60),
    max_body_kb: z.number({ error: 'expected a number of KiB' }).int().min(1).max(10_240).default(256),
    grant_ttl_minutes: z.number({ error: 'expected a number of minutes' }).positive().max(43_200).default(1_440),
    refusal_limits: strictMapping(
      {
        audited_per_minute: z.number({ error: 'expected a whole number' }).int().min(1).max(100_000).default(5),
        answered_per_minute: z.number({ error: 'expected a whole number' }).int().min(1).max(1_000_000).default(120),
      },
      'refusal_limits key',
    ).default({ audited_per_minute: 5, answered_per_minute: 120 }),
    sweep_interval_seconds: z.number({ error: 'expected a number of seconds' }).positive().max(3_600).default(5),
    call_history: strictMapping(
      {
        retention: z
          .string({ error: 'expected a duration like 7d or 12h' })
          .refine((text) => (parseDuration(text) ?? 0) > 0, 'expected a duration like 7d or 12h')
          .default('7d')
          .describe('How long calls are kept for history conditions and `signoff policy replay` (default 7d).'),
      },
      'call_history key',
    ).default({ retention: '7d' }),
    reviewers: z.array(ReviewerSchema, { error: 'expected a list of reviewers' }).default([]),
    escalation_budget: EscalationBudgetSchema.optional(),
    webhooks: WebhooksSchema.optional(),
    email: EmailSchema.optional(),
    inbox: InboxSchema.optional(),
    slack: SlackSchema.optional(),
    retention: RetentionSchema.optional(),
    api_keys: z.array(ApiKeySchema, { error: 'expected a list of API keys' }).min(1, 'expected at least one API key'),
  },
  'config key',
);

/** A principal an API key authenticates. */
export interface ApiKey {
  readonly name: string;
  readonly kind: 'agent' | 'reviewer';
  /** For reviewer keys: the reviewer. */
  readonly reviewer?: string;
  /** For agent keys: reviewers who own the agent and so cannot approve its requests. */
  readonly owners: readonly string[];
  /** sha256 (hex) of the key; the key itself is never kept. */
  readonly keySha256: string;
  /** For agent keys: the escalation budget (the key's own `escalation_budget` over the server's default); absent = unlimited. */
  readonly escalationBudget?: EscalationBudget;
}

/** How many escalations one agent key may have pending at once, and open per rolling hour. */
export interface EscalationBudget {
  readonly maxPending?: number;
  readonly maxPerHour?: number;
}

/** The validated server configuration, with paths resolved against the config file. */
export interface ServerConfig {
  readonly file: string;
  readonly policyFile: string;
  /** `sqlite:<absolute path>` or a postgres URL. */
  readonly store: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string | undefined;
  readonly defaultTimeoutMs: number;
  /** How long a granted approval stays usable (single use) when its rule does not say. */
  readonly grantTtlMs: number;
  /** Largest API request body accepted (`max_body_kb`, default 256 KiB); larger ones get `413`. */
  readonly maxBodyBytes: number;
  /** Refused API calls per source (address or key) and minute: written to the audit log in full, and answered before `429`. */
  readonly refusalLimits: { readonly auditedPerMinute: number; readonly answeredPerMinute: number };
  readonly sweepIntervalMs: number;
  /** How long the call history keeps calls (`call_history.retention`, default 7 days); used only when the policy records calls. */
  readonly historyRetentionMs: number;
  readonly reviewers: readonly Reviewer[];
  readonly apiKeys: readonly ApiKey[];
  /** Slack approvals (Block Kit message + `/v1/slack/interactions`), when configured. `apiUrl` ends with `/`. */
  readonly slack: { readonly botToken: string; readonly signingSecret: string; readonly channel: string; readonly apiUrl: string; readonly teamId?: string } | undefined;
  /** Signed webhook deliveries, when configured (also required for agents' `callbackUrl`). */
  readonly webhooks:
    | {
        readonly secret: string;
        readonly endpoints: readonly string[];
        readonly giveUpAfterMs: number;
        readonly firstRetryMs: number;
        readonly leaseMs: number;
        /** Origins agents' `callbackUrl`s may point at (`webhooks.callback_allow`); empty = no callbacks. */
        readonly callbackAllow: readonly string[];
        /** Internal networks callbacks may reach anyway (`webhooks.callback_allow_addresses`). */
        readonly callbackAllowAddresses: readonly string[];
        /** How often the audit chain head is published to `endpoints` as a signed `audit.head` event; `undefined` = never. */
        readonly publishHeadMs: number | undefined;
      }
    | undefined;
  /** Email approvals over SMTP, when configured (links point at `publicUrl`). */
  readonly email:
    | { readonly smtpUrl: string; readonly from: string; readonly linkSecret: string; readonly linkTtlMs: number | undefined; readonly publicUrl: string }
    | undefined;
  /** The web inbox at `/inbox`, when configured: session signing key and cookie settings. */
  readonly inbox: { readonly sessionSecret: string; readonly sessionTtlMs: number; readonly secureCookies: boolean; readonly oidc?: OidcSignInOptions } | undefined;
  /** Retention, when configured: resolved requests older than `resolvedAfterMs` move to JSON Lines files in `archiveDir` (absolute), checked every `intervalMs`, at most `maxRequestsPerRun` a run. */
  readonly retention?: { readonly resolvedAfterMs: number; readonly archiveDir: string; readonly intervalMs: number; readonly maxRequestsPerRun: number } | undefined;
}

/**
 * The store a config file names, without validating the rest: what an auditor needs to read the
 * log (`signoff audit verify --config`), with none of the secrets the server itself needs.
 *
 * @example
 * const store = await openStore(storeUrlOf('signoff.yaml'));
 */
export function storeUrlOf(file: string): string {
  return resolveStoreUrl(readConfigFile(file, z.looseObject({ store: ConfigSchema.shape.store })).store, file);
}

/**
 * Reads a config file and validates what `schema` picks (`check`: cross-field checks), every
 * problem with file, line and column (`CONFIG_INVALID`). The store-only readers pick one key, so the
 * rest of the config (keys from the environment) need not be set.
 */
function readConfigFile<T>(file: string, schema: z.ZodType<T>, check?: ValidateYamlOptions['check']): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SignoffError('CONFIG_INVALID', `cannot read config file ${file}: ${(error as Error).message}`);
  }
  const result = validateYaml(text, schema, check ? { file, check } : { file });
  if (!result.ok) throw new SignoffError('CONFIG_INVALID', result.issues.map(formatPolicyIssue).join('\n'));
  return result.data;
}

/** A `sqlite:` store's path resolved against the config file's folder; other URLs as written. */
function resolveStoreUrl(store: string, file: string): string {
  return store.startsWith('sqlite:') ? `sqlite:${resolve(dirname(resolve(file)), store.slice('sqlite:'.length))}` : store;
}

/**
 * The archive directory a config file names (`retention.archive_dir`, resolved against the file),
 * or `undefined` without retention: where `signoff audit verify --config` finds archived entries.
 *
 * @example
 * const archiveDirectory = archiveDirOf('signoff.yaml');
 */
export function archiveDirOf(file: string): string | undefined {
  const directory = readConfigFile(file, z.looseObject({ retention: z.looseObject({ archive_dir: RetentionSchema.shape.archive_dir }).optional() })).retention?.archive_dir;
  return directory === undefined ? undefined : resolve(dirname(resolve(file)), directory);
}

/**
 * How long a config file's server keeps call history (`call_history.retention`, default 7 days),
 * read without the rest of the config (keys from the environment need not be set): what
 * `signoff policy check --config` lints windows against.
 *
 * @example
 * const retentionMs = historyRetentionOf('signoff.yaml');
 */
export function historyRetentionOf(file: string): number {
  return parseDuration(readConfigFile(file, z.looseObject({ call_history: ConfigSchema.shape.call_history })).call_history.retention) as number;
}

/**
 * Reads and validates `signoff.yaml`. Every problem is reported at once with file, line and
 * column (code `CONFIG_INVALID`); keys from `key_env` are read from `env` and only their hash kept.
 *
 * @example
 * const config = loadServerConfig('signoff.yaml');
 */
export function loadServerConfig(file: string, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const config = readConfigFile(file, ConfigSchema, (data) => crossReferenceIssues(data, env));
  const base = dirname(resolve(file));
  const store = resolveStoreUrl(config.store, file);
  const [host, port] = config.listen.split(':') as [string, string];
  return {
    file,
    policyFile: isAbsolute(config.policy) ? config.policy : resolve(base, config.policy),
    store,
    host,
    port: Number(port),
    publicUrl: config.public_url,
    defaultTimeoutMs: config.default_timeout_minutes * 60_000,
    grantTtlMs: config.grant_ttl_minutes * 60_000,
    maxBodyBytes: config.max_body_kb * 1024,
    refusalLimits: { auditedPerMinute: config.refusal_limits.audited_per_minute, answeredPerMinute: config.refusal_limits.answered_per_minute },
    sweepIntervalMs: config.sweep_interval_seconds * 1000,
    historyRetentionMs: parseDuration(config.call_history.retention) as number,
    reviewers: config.reviewers.map(({ slack_user_id, email, ...reviewer }) => ({
      ...reviewer,
      ...(email === undefined ? {} : { email: typeof email === 'string' ? email : email.address }),
      ...(typeof email === 'object' && email.digest_minutes !== undefined ? { emailDigestMs: email.digest_minutes * 60_000 } : {}),
      ...(slack_user_id ? { slackUserId: slack_user_id } : {}),
    })),
    webhooks: config.webhooks && {
      secret: config.webhooks.secret ?? (env[config.webhooks.secret_env as string] as string),
      endpoints: config.webhooks.endpoints,
      giveUpAfterMs: config.webhooks.give_up_after_hours * 3_600_000,
      firstRetryMs: config.webhooks.first_retry_seconds * 1000,
      leaseMs: config.webhooks.lease_seconds * 1000,
      publishHeadMs: config.webhooks.publish_head_minutes === undefined ? undefined : config.webhooks.publish_head_minutes * 60_000,
      callbackAllow: config.webhooks.callback_allow,
      callbackAllowAddresses: config.webhooks.callback_allow_addresses,
    },
    email: config.email && {
      smtpUrl: config.email.smtp_url ?? (env[config.email.smtp_url_env as string] as string),
      from: config.email.from,
      linkSecret: config.email.link_secret ?? (env[config.email.link_secret_env as string] as string),
      linkTtlMs: config.email.link_ttl_minutes === undefined ? undefined : config.email.link_ttl_minutes * 60_000,
      publicUrl: config.public_url as string,
    },
    inbox: config.inbox && {
      sessionSecret: config.inbox.session_secret ?? (env[config.inbox.session_secret_env as string] as string),
      sessionTtlMs: config.inbox.session_hours * 3_600_000,
      // Secure unless reviewers reach the server over plain http on this machine.
      secureCookies: config.inbox.secure_cookies ?? !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(config.public_url ?? ''),
      ...(config.inbox.oidc
        ? {
            oidc: {
              issuer: config.inbox.oidc.issuer,
              clientId: config.inbox.oidc.client_id,
              ...(config.inbox.oidc.client_secret !== undefined || config.inbox.oidc.client_secret_env !== undefined
                ? { clientSecret: config.inbox.oidc.client_secret ?? (env[config.inbox.oidc.client_secret_env as string] as string) }
                : {}),
              redirectPath: config.inbox.oidc.redirect_path,
              scopes: config.inbox.oidc.scopes,
              mapBy: config.inbox.oidc.map_by,
              reviewers: config.inbox.oidc.reviewers,
              allowUnverifiedEmail: config.inbox.oidc.allow_unverified_email,
              ...(config.inbox.oidc.label ? { label: config.inbox.oidc.label } : {}),
            },
          }
        : {}),
    },
    slack: config.slack && {
      botToken: config.slack.bot_token ?? (env[config.slack.bot_token_env as string] as string),
      signingSecret: config.slack.signing_secret ?? (env[config.slack.signing_secret_env as string] as string),
      channel: config.slack.channel,
      apiUrl: config.slack.api_url.endsWith('/') ? config.slack.api_url : `${config.slack.api_url}/`,
      ...(config.slack.team_id ? { teamId: config.slack.team_id } : {}),
    },
    retention: config.retention && {
      resolvedAfterMs: config.retention.resolved_after_days * 86_400_000,
      archiveDir: resolve(base, config.retention.archive_dir),
      intervalMs: config.retention.interval_minutes * 60_000,
      maxRequestsPerRun: config.retention.max_requests_per_run,
    },
    apiKeys: config.api_keys.map((key) => ({
      name: key.name,
      kind: key.kind,
      ...(key.reviewer ? { reviewer: key.reviewer } : {}),
      owners: key.owners,
      keySha256: key.key_sha256 ?? sha256Hex(env[key.key_env as string] as string),
      ...(key.kind === 'agent' ? budgetOf(config.escalation_budget, key.escalation_budget) : {}),
    })),
  };
}

/** An agent key's budget: each of its own limits over the server default; nothing set = unlimited. */
function budgetOf(
  fallback: { max_pending?: number | undefined; max_escalations_per_hour?: number | undefined } | undefined,
  own: { max_pending?: number | undefined; max_escalations_per_hour?: number | undefined } | undefined,
): { escalationBudget?: EscalationBudget } {
  const maxPending = own?.max_pending ?? fallback?.max_pending;
  const maxPerHour = own?.max_escalations_per_hour ?? fallback?.max_escalations_per_hour;
  if (maxPending === undefined && maxPerHour === undefined) return {};
  return { escalationBudget: { ...(maxPending === undefined ? {} : { maxPending }), ...(maxPerHour === undefined ? {} : { maxPerHour }) } };
}

/** The references zod cannot check: keys point at reviewers that exist, env vars are set, ids are unique. */
function crossReferenceIssues(data: unknown, env: NodeJS.ProcessEnv) {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const record = (data ?? {}) as { reviewers?: unknown; api_keys?: unknown };
  const reviewers = Array.isArray(record.reviewers) ? (record.reviewers as { id?: unknown }[]) : [];
  const ids = new Set<unknown>();
  reviewers.forEach((reviewer, index) => {
    if (ids.has(reviewer?.id)) issues.push({ path: ['reviewers', index, 'id'], message: `duplicate reviewer id '${String(reviewer.id)}'` });
    ids.add(reviewer?.id);
  });
  const webhooks = (record as { webhooks?: Record<string, unknown> }).webhooks;
  if (webhooks && typeof webhooks === 'object') {
    if ((webhooks.secret === undefined) === (webhooks.secret_env === undefined)) {
      issues.push({ path: ['webhooks'], message: 'expected exactly one of secret or secret_env' });
    } else if (typeof webhooks.secret_env === 'string' && !/^whsec_[A-Za-z0-9+/=]{16,}$/.test(env[webhooks.secret_env] ?? '')) {
      issues.push({ path: ['webhooks', 'secret_env'], message: `environment variable ${webhooks.secret_env} must hold a whsec_… secret` });
    }
  }
  const email = (record as { email?: Record<string, unknown> }).email;
  if (email && typeof email === 'object') {
    if ((record as { public_url?: unknown }).public_url === undefined) {
      issues.push({ path: ['email'], message: 'email needs public_url: the address reviewers open the links at' });
    }
    if ((email.smtp_url === undefined) === (email.smtp_url_env === undefined)) {
      issues.push({ path: ['email'], message: 'expected exactly one of smtp_url or smtp_url_env' });
    } else if (typeof email.smtp_url_env === 'string' && !/^smtps?:\/\/.+/.test(env[email.smtp_url_env] ?? '')) {
      issues.push({ path: ['email', 'smtp_url_env'], message: `environment variable ${email.smtp_url_env} must hold an smtp:// or smtps:// URL` });
    }
    if ((email.link_secret === undefined) === (email.link_secret_env === undefined)) {
      issues.push({ path: ['email'], message: 'expected exactly one of link_secret or link_secret_env' });
    } else if (typeof email.link_secret_env === 'string' && Buffer.byteLength(env[email.link_secret_env] ?? '', 'utf8') < 32) {
      issues.push({ path: ['email', 'link_secret_env'], message: `environment variable ${email.link_secret_env} must hold at least 32 bytes` });
    }
  }
  const inbox = (record as { inbox?: Record<string, unknown> }).inbox;
  if (inbox && typeof inbox === 'object') {
    if ((inbox.session_secret === undefined) === (inbox.session_secret_env === undefined)) {
      issues.push({ path: ['inbox'], message: 'expected exactly one of session_secret or session_secret_env' });
    } else if (typeof inbox.session_secret_env === 'string' && Buffer.byteLength(env[inbox.session_secret_env] ?? '', 'utf8') < 32) {
      issues.push({ path: ['inbox', 'session_secret_env'], message: `environment variable ${inbox.session_secret_env} must hold at least 32 bytes` });
    }
    const oidc = inbox.oidc as Record<string, unknown> | undefined;
    if (oidc && typeof oidc === 'object') {
      if ((record as { public_url?: unknown }).public_url === undefined) issues.push({ path: ['inbox', 'oidc'], message: 'inbox.oidc needs public_url: the provider sends reviewers back to it' });
      if (oidc.client_secret !== undefined && oidc.client_secret_env !== undefined) issues.push({ path: ['inbox', 'oidc'], message: 'expected at most one of client_secret or client_secret_env' });
      if (typeof oidc.client_secret_env === 'string' && !env[oidc.client_secret_env]) issues.push({ path: ['inbox', 'oidc', 'client_secret_env'], message: `environment variable ${oidc.client_secret_env} is not set` });
      const mapped = oidc.reviewers && typeof oidc.reviewers === 'object' ? Object.entries(oidc.reviewers as Record<string, unknown>) : [];
      for (const [value, reviewerId] of mapped) if (!ids.has(reviewerId)) issues.push({ path: ['inbox', 'oidc', 'reviewers', value], message: `unknown reviewer '${String(reviewerId)}'` });
      if (oidc.map_by === 'sub' && mapped.length === 0) issues.push({ path: ['inbox', 'oidc', 'reviewers'], message: 'map_by: sub needs reviewers: mapping each provider subject to a reviewer id' });
      if (Array.isArray(oidc.scopes) && !oidc.scopes.includes('openid')) issues.push({ path: ['inbox', 'oidc', 'scopes'], message: 'scopes must include openid' });
    }
  }
  const slack = (record as { slack?: Record<string, unknown> }).slack;
  if (slack && typeof slack === 'object') {
    if ((slack.bot_token === undefined) === (slack.bot_token_env === undefined)) {
      issues.push({ path: ['slack'], message: 'expected exactly one of bot_token or bot_token_env' });
    } else if (typeof slack.bot_token_env === 'string' && !/^(xoxe\.)?xoxb-[\w-]+$/.test(env[slack.bot_token_env] ?? '')) {
      issues.push({ path: ['slack', 'bot_token_env'], message: `environment variable ${slack.bot_token_env} must hold a bot token (xoxb-…)` });
    }
    if ((slack.signing_secret === undefined) === (slack.signing_secret_env === undefined)) {
      issues.push({ path: ['slack'], message: 'expected exactly one of signing_secret or signing_secret_env' });
    } else if (typeof slack.signing_secret_env === 'string' && !/^\S{16,}$/.test(env[slack.signing_secret_env] ?? '')) {
      issues.push({ path: ['slack', 'signing_secret_env'], message: `environment variable ${slack.signing_secret_env} must hold the Slack signing secret` });
    }
    // One Slack user maps to one reviewer, or a click could count as someone else's decision.
    const slackUsers = new Map<unknown, unknown>();
    reviewers.forEach((reviewer, index) => {
      const slackUserId = (reviewer as { slack_user_id?: unknown } | undefined)?.slack_user_id;
      if (slackUserId === undefined) return;
      if (slackUsers.has(slackUserId)) issues.push({ path: ['reviewers', index, 'slack_user_id'], message: `Slack user ${String(slackUserId)} is already reviewer '${String(slackUsers.get(slackUserId))}'` });
      slackUsers.set(slackUserId, reviewer.id);
    });
  }
  const keys = Array.isArray(record.api_keys) ? (record.api_keys as Record<string, unknown>[]) : [];
  keys.forEach((key, index) => {
    if (!key || typeof key !== 'object') return;
    const at = ['api_keys', index];
    if ((key.key_sha256 === undefined) === (key.key_env === undefined)) {
      issues.push({ path: at, message: 'expected exactly one of key_sha256 or key_env' });
    } else if (typeof key.key_env === 'string' && !env[key.key_env]) {
      issues.push({ path: [...at, 'key_env'], message: `environment variable ${key.key_env} is not set` });
    }
    if (key.kind === 'reviewer' && !ids.has(key.reviewer)) {
      issues.push({ path: [...at, key.reviewer === undefined ? 'kind' : 'reviewer'], message: 'a reviewer key needs `reviewer:` naming a configured reviewer id' });
    }
    if (key.kind === 'reviewer' && key.escalation_budget !== undefined) issues.push({ path: [...at, 'escalation_budget'], message: 'only agent keys escalate: escalation_budget belongs on an agent key' });
    if (key.kind === 'agent' && key.reviewer !== undefined) issues.push({ path: [...at, 'reviewer'], message: 'agent keys take `owners:`, not `reviewer:`' });
    for (const [ownerIndex, owner] of (Array.isArray(key.owners) ? key.owners : []).entries()) {
      if (!ids.has(owner)) issues.push({ path: [...at, 'owners', ownerIndex], message: `unknown reviewer '${String(owner)}'` });
    }
  });
  return issues;
}

/** sha256 (hex) of an API key, as stored in config (`key_sha256`). */
export function sha256Hex(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}
