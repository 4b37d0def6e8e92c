import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSignoff, SignoffError } from '@signoff/core';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalControlPlane } from '../local-control-plane.js';
import { openPostgresStore } from '../store/postgres-store.js';
import { client } from '../test-server.js';

const policy = 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate, metadata: { approver_roles: [finance] } }\n';
const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
const schema = `signoff_tamper_${randomBytes(3).toString('hex')}`;
const directory = mkdtempSync(join(tmpdir(), 'signoff-tamper-'));
afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  if (!postgresUrl) return;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await admin.end();
});

/** Each store, and how someone with database access flips a row behind the server's back. */
const stores = [
  {
    name: 'SQLite',
    open: async () => undefined,
    sql: async (statement: string, params: unknown[]) => {
      const db = new Database(join(directory, 'signoff.db'));
      db.prepare(statement).run(...params);
      db.close();
    },
  },
  ...(postgresUrl
    ? [
        {
          name: 'PostgreSQL',
          open: () => openPostgresStore({ connectionString: postgresUrl, schema }),
          sql: async (statement: string, params: unknown[]) => {
            const admin = new pg.Client({ connectionString: postgresUrl });
            await admin.connect();
            let index = 0;
            await admin.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
            await admin.query(statement.replace(/\?/g, () => `$${(index += 1)}`), params);
            await admin.end();
          },
        },
      ]
    : []),
];

describe.each(stores)('a request row flipped denied → approved in the database ($name)', ({ open, sql }) => {
  it('is refused with 409 STATE_TAMPERED on read, wait, list and decision; the agent never sees a grant; the server keeps serving', async () => {
    const store = await open();
    const controlPlane = await startLocalControlPlane({ policy, directory, ...(store ? { store } : {}) });
    try {
      const signoff = createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey, maxAttempts: 1 } });
      const request = await signoff.requestApproval(signoff.guard('payment.send', { to: 'acme', amount: 900 }));
      const denied = await controlPlane.decide(request.id, 'ana', 'deny', { comment: 'no' });
      await sql("UPDATE approval_requests SET status = 'approved', body = ? WHERE id = ?", [JSON.stringify({ ...denied, status: 'approved', granted: true, resolution: 'Approved by Ana Lima' }), request.id]);

      const agent = client(controlPlane.url, controlPlane.agentKey);
      const reviewer = client(controlPlane.url, controlPlane.reviewerKey('ana'));
      for (const response of [
        await agent('GET', `/v1/approvals/${request.id}`),
        await agent('GET', `/v1/approvals/${request.id}/wait?timeout=1`),
        await agent('GET', '/v1/approvals'),
        await reviewer('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' }),
      ]) {
        expect(response).toMatchObject({ status: 409, body: { error: { code: 'STATE_TAMPERED', message: expect.stringContaining(request.id) } } });
        expect(JSON.stringify(response.body)).not.toContain('"granted":true');
      }
      const refusal = await signoff.getApproval(request.id).catch((error: unknown) => error);
      expect(SignoffError.isInstance(refusal) && refusal.code === 'CONTROL_PLANE_REJECTED' && refusal.message.includes('STATE_TAMPERED')).toBe(true);

      const audit = await controlPlane.store.readAudit();
      expect(audit.filter((entry) => entry.type === 'state.tampered')).toEqual([
        expect.objectContaining({ requestId: request.id, actor: 'system', detail: { problems: [expect.stringContaining('does not hash to its state_hash')] } }),
      ]);
      expect((await agent('GET', '/v1/health')).status).toBe(200);
    } finally {
      await controlPlane.close();
    }
  });
});
