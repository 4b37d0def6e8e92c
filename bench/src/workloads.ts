import { readFileSync } from 'node:fs';
import { parsePolicy, type Policy } from '@signoff/core';

/** One tool call of an input set. Every value a condition reads is present (see README: inputs). */
export interface BenchInput {
  readonly tool: string;
  readonly args: Readonly<Record<string, string | number>>;
}

/** A policy (as YAML, parsed by core) and the mixed input set every engine decides. */
export interface Workload {
  readonly name: string;
  readonly yaml: string;
  readonly policy: Policy;
  /** Whether Cedar, json-rules-engine and casbin decide it too (they cannot express every operator). */
  readonly comparePeers: boolean;
  /**
   * 1,024 inputs (a power of two, so a timing loop can index with a mask): each distinct call
   * appears several times, in a seeded random order. Repeats are the same object.
   */
  readonly inputs: readonly BenchInput[];
}

export const INPUT_COUNT = 1_024;
export const RULE_COUNT = 1_000;
/** Distinct calls of the 1,000-rule set: enough to be mixed, few enough to cross-check peers in seconds. */
const DISTINCT_CALLS = 256;

/** (a) the seed policy, (b) the 1,000-rule policy and (c) the `matches` policy, with their input sets. */
export function loadWorkloads(): Workload[] {
  return [seedWorkload(), thousandRuleWorkload(), matchesWorkload()];
}

const SEED_FILE = new URL('../../examples/policies/seed.yaml', import.meta.url);

/** Calls that reach every seed rule, both sides of each condition, glob edges and the default. */
const SEED_CALLS: readonly BenchInput[] = [
  { tool: 'payment.send', args: { to: 'acme-supplies', amount: 42 } },
  { tool: 'payment.send', args: { to: 'acme-supplies', amount: 100 } },
  { tool: 'payment.send', args: { to: 'acme-supplies', amount: 101 } },
  { tool: 'payment.send', args: { to: 'acme-supplies', amount: 1250 } },
  { tool: 'email.send', args: { to: 'ana@yourcompany.com', subject: 'Invoice paid' } },
  { tool: 'email.send', args: { to: 'billing@acme-supplies.com', subject: 'Remittance' } },
  { tool: 'email.send', args: { to: 'eve@yourcompany.com.evil.io', subject: 'Hi' } },
  { tool: 'invoice.get', args: { id: 'inv_1042' } },
  { tool: 'customer.list', args: { page: 2 } },
  { tool: 'search.web', args: { q: 'vendor terms' } },
  { tool: 'search.web.images', args: { q: 'logo' } },
  { tool: 'search', args: { q: 'no dot' } },
  { tool: 'crm.contact.get', args: { id: 'c_7' } },
  { tool: 'shell.exec', args: { command: 'ls' } },
  { tool: 'payment.refund', args: { to: 'acme-supplies', amount: 5 } },
  { tool: 'file.delete', args: { path: '/tmp/x' } },
];

function seedWorkload(): Workload {
  const yaml = readFileSync(SEED_FILE, 'utf8');
  const inputs = repeatShuffled(SEED_CALLS, createRandom(1));
  return { name: 'seed (4 rules)', yaml, policy: parsePolicy(yaml, { file: 'examples/policies/seed.yaml' }), comparePeers: true, inputs };
}

/**
 * Rule i names `tool.i` and tests `args.amount` against i; actions cycle escalate (amount > i),
 * deny (amount > i), allow (amount <= i), so every action, and the default, is reached.
 */
function thousandRuleWorkload(): Workload {
  const lines = ['version: 1', 'default: deny', 'rules:'];
  for (let index = 0; index < RULE_COUNT; index += 1) {
    const action = (['escalate', 'deny', 'allow'] as const)[index % 3];
    const test = action === 'allow' ? `{ lte: ${index} }` : `{ gt: ${index} }`;
    lines.push(`  - { id: r${index}, tool: tool.${index}, action: ${action}, when: { args.amount: ${test} } }`);
  }
  const yaml = `${lines.join('\n')}\n`;
  const random = createRandom(2);
  // Every tenth call names a tool no rule names (25 of 256), so it falls to the default.
  const calls = Array.from({ length: DISTINCT_CALLS }, (_, index): BenchInput => {
    const amount = Math.floor(random() * RULE_COUNT);
    const number = Math.floor(random() * RULE_COUNT);
    const tool = index % 10 === 9 ? `unknown.${number}` : `tool.${number}`;
    return { tool, args: { amount, to: 'vendor-7' } };
  });
  const inputs = repeatShuffled(calls, random);
  return { name: '1,000 rules', yaml, policy: parsePolicy(yaml, { file: 'thousand-rules.yaml' }), comparePeers: true, inputs };
}

/**
 * Rules decided by `matches` on an account id and on email addresses, the patterns a policy
 * typically holds. Written so JavaScript's RegExp accepts them too, to compare the two engines on
 * the same file. Only signoff runs it: Cedar has no regular expressions.
 */
const MATCHES_POLICY = String.raw`version: 1
default: deny
rules:
  - id: own-accounts
    tool: payment.send
    action: allow
    when:
      args.to: { matches: '^acct_[0-9a-z]{10,24}$' }
      args.amount: { lte: 1000 }
  - id: payees
    tool: payment.send
    action: escalate
    when:
      any:
        - args.to: { matches: '^acct_[0-9a-z]{10,24}$' }
        - args.to: { matches: '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$' }
  - id: internal-email
    tool: email.send
    action: allow
    when: { args.to: { matches: '^[a-z0-9._%+-]+@yourcompany\.com$' } }
  - id: external-email
    tool: email.send
    action: escalate
    when: { args.to: { matches: '^[^\s@]+@[^\s@]+\.[^\s@]+$' } }
`;

/** Valid and near-miss account ids and addresses: every rule, both sides of each pattern, and the default. */
const MATCHES_CALLS: readonly BenchInput[] = [
  { tool: 'payment.send', args: { to: 'acct_7f3k9q2m1x', amount: 250 } },
  { tool: 'payment.send', args: { to: 'acct_7f3k9q2m1x', amount: 5000 } },
  { tool: 'payment.send', args: { to: 'acct_00000000000000000000', amount: 10 } },
  { tool: 'payment.send', args: { to: 'acct_7F3K9Q2M1X', amount: 10 } },
  { tool: 'payment.send', args: { to: 'acct_short', amount: 10 } },
  { tool: 'payment.send', args: { to: 'billing@acme-supplies.com', amount: 120 } },
  { tool: 'payment.send', args: { to: 'ana.lopez+invoices@mail.example.co.uk', amount: 40 } },
  { tool: 'payment.send', args: { to: 'acct_7f3k9q2m1x; DROP', amount: 1 } },
  { tool: 'email.send', args: { to: 'ana@yourcompany.com' } },
  { tool: 'email.send', args: { to: 'dev.ops+alerts@yourcompany.com' } },
  { tool: 'email.send', args: { to: 'eve@yourcompany.com.evil.io' } },
  { tool: 'email.send', args: { to: 'billing@acme-supplies.com' } },
  { tool: 'email.send', args: { to: 'ANA@YOURCOMPANY.COM' } },
  { tool: 'email.send', args: { to: 'not an email' } },
  { tool: 'email.send', args: { to: 'x@y' } },
  { tool: 'invoice.get', args: { id: 'inv_1042' } },
];

function matchesWorkload(): Workload {
  const inputs = repeatShuffled(MATCHES_CALLS, createRandom(3));
  return { name: 'matches (5 patterns)', yaml: MATCHES_POLICY, policy: parsePolicy(MATCHES_POLICY, { file: 'matches.yaml' }), comparePeers: false, inputs };
}

/** {@link INPUT_COUNT} inputs: the calls repeated in turn, then shuffled (Fisher–Yates). */
function repeatShuffled(calls: readonly BenchInput[], random: () => number): BenchInput[] {
  const inputs = Array.from({ length: INPUT_COUNT }, (_, index) => calls[index % calls.length] as BenchInput);
  for (let index = inputs.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [inputs[index], inputs[other]] = [inputs[other] as BenchInput, inputs[index] as BenchInput];
  }
  return inputs;
}

/** mulberry32: a seeded PRNG, so every run and every engine sees the same inputs. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
