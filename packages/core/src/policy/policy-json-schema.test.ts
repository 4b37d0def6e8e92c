import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PolicyError } from '../errors/policy-error.js';
import { parsePolicy } from './parse-policy.js';
import { policyJsonSchema } from './policy-json-schema.js';

const published = JSON.parse(readFileSync(new URL('../../policy.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(policyJsonSchema());

const policies = [
  '../../../../examples/policies/seed.yaml',
  '../../../../examples/langchain-agent/policy.yaml',
  '../../../../packages/server/src/__fixtures__/policy.yaml',
  '../__fixtures__/history.policy.yaml',
].map((path) => readFileSync(new URL(path, import.meta.url), 'utf8'));

describe('the published JSON Schema', () => {
  it('is the one generated from the zod schema (run `pnpm --filter @signoff/core schema` after changing it)', () => {
    expect(published).toEqual(policyJsonSchema());
  });

  it.each(policies.map((text, index) => [index, text]))('accepts a real policy (%i) that the loader accepts', (_index, text) => {
    expect(() => parsePolicy(text)).not.toThrow();
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown rule key', 'rules: [{ tool: a, action: allow, colour: red }]'],
    ['a bad action', 'rules: [{ tool: a, action: maybe }]'],
    ['an unknown operator', 'rules: [{ tool: a, action: deny, when: { args.x: { greater: 1 } } }]'],
    ['a path without args./context.', 'rules: [{ tool: a, action: deny, when: { amount: 1 } }]'],
    ['a list literal', 'rules: [{ tool: a, action: deny, when: { args.x: [1, 2] } }]'],
    ['an empty operator object', 'rules: [{ tool: a, action: deny, when: { args.x: {} } }]'],
    ['a string where gt needs a number', 'rules: [{ tool: a, action: deny, when: { args.x: { gt: "1" } } }]'],
    ['required_approvals 0', 'rules: [{ tool: a, action: escalate, metadata: { required_approvals: 0 } }]'],
    ['a bad window duration', 'rules: [{ tool: a, action: deny, when: { window: { within: 1 hour }, count: { gt: 1 } } }]'],
    ['an unknown aggregate', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h }, avg(args.x): { gt: 1 } } }]'],
    ['a string comparison on an aggregate', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h }, count: { ends_with: x } } }]'],
    ['a bad mode', 'rules: [{ tool: a, action: deny, mode: dry-run }]'],
  ])('rejects %s, as the loader does', (_name, text) => {
    expect(() => parsePolicy(text)).toThrow(PolicyError);
    expect(validate(parse(text))).toBe(false);
  });
});
