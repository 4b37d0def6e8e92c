import { describe, expect, it } from 'vitest';
import { quorumReached } from './quorum.js';
import type { Reviewer } from './reviewer.js';

const reviewer = (id: string, ...roles: string[]): Reviewer => ({ id, name: id, roles });
const needs = (requiredApprovals: number, ...approverRoles: string[]) => ({ requiredApprovals, approverRoles, timeoutMs: undefined, timeoutAction: 'deny' as const });

describe('quorumReached', () => {
  it.each([
    ['one approval from anyone', [reviewer('a')], needs(1), true],
    ['two approvals, one given', [reviewer('a')], needs(2), false],
    ['the same reviewer twice counts once', [reviewer('a'), reviewer('a')], needs(2), false],
    ['an ineligible approver does not count', [reviewer('a', 'dev'), reviewer('b', 'ops')], needs(1, 'ops', 'sec'), true],
    ['wrong roles only', [reviewer('a', 'dev')], needs(1, 'ops'), false],
    ['2 of [lead, sec] with lead + sec', [reviewer('a', 'lead'), reviewer('b', 'sec')], needs(2, 'lead', 'sec'), true],
    ['2 of [lead, sec] with two leads', [reviewer('a', 'lead'), reviewer('b', 'lead')], needs(2, 'lead', 'sec'), false],
    ['a two-role reviewer plus a lead covers both by matching', [reviewer('a', 'lead', 'sec'), reviewer('b', 'lead')], needs(2, 'lead', 'sec'), true],
    ['1 of [lead, sec]: either role will do', [reviewer('a', 'sec')], needs(1, 'lead', 'sec'), true],
    ['3 of [lead, sec]: both roles and a third person', [reviewer('a', 'lead'), reviewer('b', 'lead'), reviewer('c', 'lead')], needs(3, 'lead', 'sec'), false],
  ])('%s', (_name, approvers, requirements, expected) => {
    expect(quorumReached(approvers, requirements)).toBe(expected);
  });
});
