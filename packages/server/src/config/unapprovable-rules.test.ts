import { parsePolicy } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { unapprovableRules } from './unapprovable-rules.js';
import type { ApiKey } from './server-config.js';

const policy = parsePolicy(`
version: 1
rules:
  - id: payments
    tool: payment_send
    action: escalate
    metadata: { approver_roles: [finance] }
  - id: deploys
    tool: deploy_run
    action: escalate
    metadata: { required_approvals: 2, approver_roles: [security, engineering-lead] }
`);
const agent = (owners: string[]): ApiKey => ({ name: 'payments-agent', kind: 'agent', owners, keySha256: '0'.repeat(64) });
const reviewers = [
  { id: 'ana', name: 'Ana', roles: ['finance'] },
  { id: 'sam', name: 'Sam', roles: ['security'] },
  { id: 'lee', name: 'Lee', roles: ['engineering-lead'] },
];

describe('unapprovableRules', () => {
  it('finds a rule only the agent’s owners could approve', () => {
    const warnings = unapprovableRules(policy, reviewers, [agent(['ana'])]);
    expect(warnings).toEqual([expect.stringContaining("rule 'payments' (line 4) needs 1 approval(s) from finance: the reviewers can never give them to agent 'payments-agent' (its owners ana may not approve its calls)")]);
  });

  it('finds a quorum the reviewers cannot reach at all, and says nothing when every rule can be approved', () => {
    expect(unapprovableRules(policy, reviewers.slice(0, 2), [agent([])])).toEqual([expect.stringContaining("rule 'deploys'")]);
    expect(unapprovableRules(policy, reviewers, [agent(['lee']), { ...agent([]), kind: 'reviewer' }]).filter((warning) => warning.includes("rule 'payments'"))).toEqual([]);
    expect(unapprovableRules(policy, [...reviewers, { id: 'lea', name: 'Lea', roles: ['engineering-lead'] }], [agent(['lee'])])).toEqual([]);
  });
});
