import { describe, expect, it } from 'vitest';
import { conditionPaths } from './condition-paths.js';
import { parsePolicy } from './parse-policy.js';

const conditionOf = (when: string) => parsePolicy(`version: 1\nrules:\n  - tool: payment.send\n    action: escalate\n${when}`).rules[0]!.condition;

describe('conditionPaths', () => {
  it('lists the paths of a when map in file order', () => {
    expect(conditionPaths(conditionOf('    when: { args.amount: { gt: 100 }, args.to: { ends_with: "@acme.com" }, context.user: alice }'))).toEqual([
      'args.amount',
      'args.to',
      'context.user',
    ]);
  });

  it('walks into any, all and not, and names each path once', () => {
    const condition = conditionOf(
      [
        '    when:',
        '      args.amount: { gt: 100, lt: 10000 }',
        '      any:',
        '        - { args.to: { not: { ends_with: "@acme.com" } } }',
        '        - all: [{ args.memo: { contains: refund } }, { args.amount: { gte: 50 } }]',
        '      args.payee.iban: { exists: true }',
      ].join('\n'),
    );
    expect(conditionPaths(condition)).toEqual(['args.amount', 'args.to', 'args.memo', 'args.payee.iban']);
  });

  it('is empty for a rule without conditions', () => {
    expect(conditionPaths(conditionOf(''))).toEqual([]);
    expect(conditionPaths(null)).toEqual([]);
  });
});
