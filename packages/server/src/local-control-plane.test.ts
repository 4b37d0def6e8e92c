import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createSignoff } from '@signoff/core';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalControlPlane, type LocalControlPlane } from './local-control-plane.js';

const policy = `
version: 1
default: deny
rules:
  - tool: payment.send
    action: escalate
    metadata: { required_approvals: 2, approver_roles: [finance, security] }
`;

describe('startLocalControlPlane', () => {
  let controlPlane: LocalControlPlane;
  afterAll(async () => controlPlane.close());

  it('runs a real control plane with generated keys that an agent and reviewers can use', async () => {
    controlPlane = await startLocalControlPlane({ policy });
    const signoff = createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const authorizing = signoff.authorize('payment.send', { amount: 10 });
    let pending = await controlPlane.actionable('ana');
    while (pending.length === 0) pending = await controlPlane.actionable('ana');
    await controlPlane.decide(pending[0]!.id, 'ana', 'approve');
    await controlPlane.decide(pending[0]!.id, 'sam', 'approve');
    expect(await authorizing).toMatchObject({ granted: true, args: { amount: 10 } });
    await expect(controlPlane.decide(pending[0]!.id, 'lee', 'approve')).rejects.toThrow(/409 ALREADY_RESOLVED|403 NOT_AN_APPROVER/);
  });

  it('keeps its secrets private: a 0700 directory, the config and the database 0600', async () => {
    const local = await startLocalControlPlane({ policy, inbox: {} });
    const mode = (file: string) => statSync(file).mode & 0o777;
    try {
      expect(mode(local.directory)).toBe(0o700);
      expect(mode(join(local.directory, 'signoff.yaml'))).toBe(0o600);
      expect(mode(join(local.directory, 'signoff.db'))).toBe(0o600);
    } finally {
      await local.close();
    }
  });
});
