import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig, sha256Hex } from '../../config/server-config.js';
import { startServer, type RunningServer } from '../../start-server.js';
import { client } from '../../test-server.js';
import { startTestMailServer, type TestMailServer } from './test-mail-server.js';

const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
const WINDOW_MS = 3_000; // digest_minutes: 0.05

describe.skipIf(!postgresUrl)('email digests from two replicas on one PostgreSQL database', () => {
  const schema = `digests_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const directory = mkdtempSync(join(tmpdir(), 'signoff-digest-replicas-'));
  const agentKey = `sk_agent_${randomUUID()}`;
  const replicas: RunningServer[] = [];
  let mail: TestMailServer | undefined;

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await mail?.close();
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(directory, { recursive: true, force: true });
  });

  it('sends each window’s digest once although both replicas deliver the outbox', async () => {
    mail = await startTestMailServer();
    writeFileSync(join(directory, 'policy.yaml'), 'version: 1\ndefault: deny\nrules:\n  - { tool: refund.issue, action: escalate, metadata: { approver_roles: [finance] } }\n');
    writeFileSync(
      join(directory, 'signoff.yaml'),
      [
        'policy: ./policy.yaml',
        `store: "${postgresUrl}${postgresUrl?.includes('?') ? '&' : '?'}schema=${schema}"`,
        'listen: 127.0.0.1:0',
        'public_url: http://127.0.0.1:9',
        'email:',
        `  smtp_url: smtp://127.0.0.1:${mail.port}`,
        '  from: Signoff <signoff@example.com>',
        '  link_secret: email-link-secret-for-digest-replicas-0123456789',
        'reviewers: [{ id: dana, name: Dana, roles: [finance], email: { address: dana@example.com, digest_minutes: 0.05 } }]',
        'api_keys:',
        `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(agentKey)}" }`,
      ].join('\n'),
    );
    replicas.push(await startServer(loadServerConfig(join(directory, 'signoff.yaml'))), await startServer(loadServerConfig(join(directory, 'signoff.yaml'))));
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, index) => client(replicas[index % 2]!.url, agentKey)('POST', '/v1/approvals', { tool: 'refund.issue', args: { order: `o-${index}` } })),
    );
    const ids = created.map((response) => response.body.id as string);
    // Each window in which requests were opened yields exactly one digest, whichever replica sends it.
    const windows = new Set(created.map((response) => Math.floor(Date.parse(response.body.createdAt) / WINDOW_MS)));
    const digests = () => mail!.received.filter((message) => message.headers.has('x-signoff-digest'));
    await expect.poll(() => new Set(digests().flatMap((message) => String(message.headers.get('x-signoff-digest')).split(' '))), { timeout: 20_000 }).toEqual(new Set(ids));
    // A request opened just after a window closed may already be listed in that window's digest: its own window still sends one.
    // A request that committed after its window's digest was claimed is listed by a follow-up: at most one per request.
    await expect.poll(() => digests().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(windows.size);
    await Promise.all(replicas.map((replica) => replica.dispatcher.runOnce())); // anything still due is sent now
    const sent = digests().length;
    expect(sent).toBeLessThanOrEqual(windows.size + ids.length);
    expect(new Set(digests().map((message) => message.messageId)).size).toBe(sent); // never the same digest twice
  });
});
