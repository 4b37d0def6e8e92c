import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig, sha256Hex } from './server-config.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-budget-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let count = 0;

/** Writes a config with these extra lines and loads it. */
function load(lines: readonly string[]) {
  const file = join(directory, `signoff-${(count += 1)}.yaml`);
  writeFileSync(file, ['policy: policy.yaml', ...lines].join('\n'));
  return loadServerConfig(file);
}
const key = (name: string, extra = '') => `  - { name: ${name}, kind: agent, key_sha256: "${sha256Hex(name)}"${extra} }`;

describe('escalation budgets and email digests in the server config', () => {
  it('merges each agent key’s own limits over the default; none set means unlimited', () => {
    const config = load([
      'escalation_budget: { max_pending: 10, max_escalations_per_hour: 30 }',
      'api_keys:',
      key('plain'),
      key('tight', ', escalation_budget: { max_pending: 2 }'),
    ]);
    expect(config.apiKeys.map((apiKey) => [apiKey.name, apiKey.escalationBudget])).toEqual([
      ['plain', { maxPending: 10, maxPerHour: 30 }],
      ['tight', { maxPending: 2, maxPerHour: 30 }],
    ]);
    expect(load(['api_keys:', key('free')]).apiKeys[0]?.escalationBudget).toBeUndefined();
  });

  it('reads a reviewer email as an address or as { address, digest_minutes }', () => {
    const config = load([
      'reviewers:',
      '  - { id: ana, name: Ana, email: ana@example.com }',
      '  - { id: bo, name: Bo, email: { address: bo@example.com, digest_minutes: 15 } }',
      'api_keys:',
      key('agent'),
    ]);
    expect(config.reviewers).toMatchObject([{ id: 'ana', email: 'ana@example.com' }, { id: 'bo', email: 'bo@example.com', emailDigestMs: 900_000 }]);
    expect(config.reviewers[0]).not.toHaveProperty('emailDigestMs');
  });

  it('names file, line and column of a bad budget or digest setting', () => {
    expect(() => load(['escalation_budget: { max_pending: 0 }', 'api_keys:', key('agent')])).toThrow(/signoff-\d+\.yaml:2:\d+/);
    expect(() => load(['escalation_budget: { max_pendings: 3 }', 'api_keys:', key('agent')])).toThrow(/unknown escalation_budget key 'max_pendings'/);
    expect(() => load(['api_keys:', key('agent', ', escalation_budget: { max_pending: 2.5 }')])).toThrow(/expected a whole number/);
    expect(() =>
      load(['reviewers: [{ id: ana, name: Ana, roles: [finance] }]', 'api_keys:', `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex('ana')}", escalation_budget: { max_pending: 2 } }`]),
    ).toThrow(/only agent keys escalate/);
    expect(() => load(['reviewers: [{ id: bo, name: Bo, email: { address: bo@example.com, digest_minute: 5 } }]', 'api_keys:', key('agent')])).toThrow(/signoff-\d+\.yaml:2:/);
  });
});
