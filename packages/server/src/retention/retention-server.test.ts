import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig, sha256Hex } from '../config/server-config.js';
import { startServer } from '../start-server.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { newRequest } from '../store/store.contract.js';
import { verifyAuditLog } from './verify-audit-log.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-retention-server-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('retention in a running server', () => {
  it('drains a backlog in runs of at most max_requests_per_run, each request archived once', async () => {
    const file = join(directory, 'signoff.db');
    const seeded = openSqliteStore(file);
    const longAgo = Date.now() - 100 * 86_400_000;
    await seeded.createRequests(
      Array.from({ length: 25 }, (_, index) => {
        const { request, events } = newRequest(`apr_backlog${String(index).padStart(4, '0')}`, { now: new Date(longAgo + index * 60_000) });
        return { request: { ...request, status: 'denied' as const, resolvedAt: new Date(longAgo + index * 60_000 + 1_000).toISOString() }, events };
      }),
    );
    await seeded.close();
    writeFileSync(
      join(directory, 'signoff.yaml'),
      [
        `policy: ${fileURLToPath(new URL('../__fixtures__/policy.yaml', import.meta.url))}`,
        'store: sqlite:./signoff.db',
        'listen: 127.0.0.1:0',
        'retention: { resolved_after_days: 30, archive_dir: ./archive, interval_minutes: 0.005, max_requests_per_run: 10 }',
        'reviewers:',
        '  - { id: ana, name: Ana, roles: [finance] }',
        '  - { id: bo, name: Bo, roles: [finance] }',
        '  - { id: sam, name: Sam, roles: [security] }',
        'api_keys:',
        `  - { name: agent, kind: agent, key_sha256: "${sha256Hex('sk_test_retention_agent_0123')}" }`,
      ].join('\n'),
    );
    const server = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
    try {
      const archive = join(directory, 'archive');
      while ((await server.store.getRequest('apr_backlog0024')) !== undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      // One file per run (named by its audit range, so sorted in run order), holding its requests.
      const runs = readdirSync(archive)
        .sort((a, b) => Number(a.split('-')[2]) - Number(b.split('-')[2]))
        .map((name) => readFileSync(join(archive, name), 'utf8').split('\n').filter((line) => line.startsWith('{"request"')).length);
      expect(runs).toEqual([10, 10, 5]);
      const report = await verifyAuditLog({ store: server.store, archiveDirectory: archive });
      expect(report.problems).toEqual([]);
      expect(report.archivedRequests).toBe(25);
    } finally {
      await server.close();
    }
  });
});
