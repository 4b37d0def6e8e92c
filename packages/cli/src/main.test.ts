import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from './main.js';

const seed = fileURLToPath(new URL('../../../examples/policies/seed.yaml', import.meta.url));
const seedCases = fileURLToPath(new URL('../../../examples/policies/seed.cases.yaml', import.meta.url));
const historyPolicy = fileURLToPath(new URL('../../core/src/__fixtures__/history.policy.yaml', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('signoff policy check', () => {
  it('prints the usage for --help after any command, and exits 0', async () => {
    for (const argv of [['serve', '--help'], ['approvals', 'list', '--help'], ['policy', 'check', '-h'], ['--help']]) {
      expect(await run(...argv)).toMatchObject({ code: 0, out: expect.stringContaining('serve [--config signoff.yaml]') });
    }
  });

  it('summarizes a valid policy and exits 0', async () => {
    const result = await run('policy', 'check', seed);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/valid — 4 rules \(2 allow, 0 deny, 2 escalate\), default deny/);
    expect(result.out).not.toContain('warning');
  });

  it('names the file as it was typed, not its absolute path', async () => {
    const typed = relative(process.cwd(), seed);
    const result = await run('policy', 'check', typed);
    expect(result.out.startsWith(`${typed}: valid — 4 rules`)).toBe(true);
    const invalid = relative(process.cwd(), fixture('invalid.policy.yaml'));
    expect((await run('policy', 'check', invalid)).err).toContain(`${invalid}:6:7: unknown condition 'amount'`);
  });

  it('prints every error with file:line:column and exits 1', async () => {
    const result = await run('policy', 'check', fixture('invalid.policy.yaml'));
    expect(result.code).toBe(1);
    expect(result.err).toContain("invalid.policy.yaml:6:7: unknown condition 'amount'");
    expect(result.err).toContain('invalid.policy.yaml:8:13: expected allow, deny or escalate, got "maybe"');
    expect(result.err).toContain('2 errors; the policy was not loaded');
  });

  it('prints lint warnings, and fails on them only with --strict', async () => {
    const result = await run('policy', 'check', fixture('lint.policy.yaml'));
    expect(result.code).toBe(0);
    expect(result.out).toContain('warning: no `default`');
    expect(result.out).toMatch(/lint\.policy\.yaml:4:5: warning: rule 'rule-2' can never match: rule 'rule-1' \(line 2\)/);
    expect((await run('policy', 'check', '--strict', fixture('lint.policy.yaml'))).code).toBe(1);
  });

  it('with --config, lints windows against that server\'s call history retention', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'signoff-check-'));
    try {
      const config = join(directory, 'signoff.yaml');
      writeFileSync(config, 'policy: ./policy.yaml\nstore: sqlite:./signoff.db\ncall_history: { retention: 12h }\napi_keys: [{ name: a, kind: agent, key_env: UNSET_KEY }]\n');
      const result = await run('policy', 'check', historyPolicy, '--config', config);
      expect(result.out).toContain(`call history kept 12h (call_history.retention in ${config})`);
      expect(result.out).toMatch(/history\.policy\.yaml:\d+:\d+: warning: rule 'big-refund-watch': max\(args\.amount\) looks back 1d but the control plane keeps calls for 12h.*\[window-exceeds-retention\]/);
      // Without it, the default (7d) serves every window here.
      expect((await run('policy', 'check', historyPolicy)).out).not.toContain('window-exceeds-retention');
      writeFileSync(config, 'call_history: { retention: soon }\n');
      expect((await run('policy', 'check', historyPolicy, '--config', config)).err).toContain('signoff.yaml:1:28: expected a duration like 7d or 12h');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('says when the file does not exist', async () => {
    const result = await run('policy', 'check', 'nope.yaml');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/cannot read policy file .*nope\.yaml/);
  });
});

describe('signoff policy explain', () => {
  it('shows the decision, the deciding rule and each condition', async () => {
    const result = await run('policy', 'explain', seed, '--tool', 'payment.send', '--args', '{"to":"acme","amount":500}');
    expect(result.code).toBe(0);
    expect(result.out).toContain("ESCALATE by rule 'big-payments' (line 7)");
    expect(result.out).toContain('approval: 2 approvals from finance, engineering-lead; timeout 30 min, then deny');
    expect(result.out).toContain('args.amount gt 100: found 500 → true');
  });

  it('shows what the shadow rules would decide, recorded and not enforced', async () => {
    const result = await run('policy', 'explain', historyPolicy, '--tool', 'refund_create', '--args', '{"amount":900}', '--context', '{"user":"u1"}');
    expect(result.out).toContain("ESCALATE by rule 'refund-burst'");
    expect(result.out).toContain("shadow: would ESCALATE by shadow rule 'big-refund-watch' — recorded, not enforced; reason: Rule 'big-refund-watch' depends on the call history (max(args.amount)): the control plane decides");
    expect((await run('policy', 'explain', historyPolicy, '--tool', 'inbox_read')).out).toContain("shadow: would ALLOW by rule 'inbox' (the same)");
    expect((await run('policy', 'explain', seed, '--tool', 'shell.exec')).out).not.toContain('shadow:');
  });

  it('names the unknown path when a value is missing', async () => {
    const result = await run('policy', 'explain', seed, '--tool', 'payment.send', '--args', '{"to":"acme"}');
    expect(result.out).toContain('unknown: args.amount');
    expect(result.out).toContain('args.amount gt 100: missing → unknown');
  });

  it('shows the default when no rule matches, and prints JSON on request', async () => {
    expect((await run('policy', 'explain', seed, '--tool', 'shell.exec')).out).toContain('DENY by the policy default');
    const json = JSON.parse((await run('policy', 'explain', seed, '--tool', 'email.send', '--args', '{"to":"a@b.c"}', '--json')).out);
    expect(json).toMatchObject({ action: 'escalate', ruleId: 'external-email', unknownPath: null });
  });

  it('refuses bad JSON and a missing --tool with a usage error', async () => {
    const badJson = await run('policy', 'explain', seed, '--tool', 'x', '--args', '{oops');
    expect(badJson.code).toBe(2);
    expect(badJson.err).toContain('--args is not valid JSON');
    expect((await run('policy', 'explain', seed)).err).toContain('--tool is required');
  });
});

describe('signoff policy test', () => {
  it('passes the seed cases', async () => {
    const result = await run('policy', 'test', seed, seedCases);
    expect(result.code).toBe(0);
    expect(result.out).toContain('8 passed, 0 failed');
  });

  it('prints what was expected, what came and the deciding rule, and exits 1', async () => {
    const result = await run('policy', 'test', seed, fixture('failing.cases.yaml'));
    expect(result.code).toBe(1);
    expect(result.out).toContain('✗ big payments are allowed (wrong on purpose)');
    expect(result.out).toContain('expected: allow');
    expect(result.out).toContain("got:      escalate (rule 'big-payments')");
    expect(result.out).toMatch(/decided by: rule 'big-payments' \(.*seed\.yaml:7\)/);
    expect(result.out).toContain('✓ shell is denied');
    expect(result.out).toContain('1 passed, 1 failed');
  });

  it('points at the line of a malformed cases file', async () => {
    const result = await run('policy', 'test', seed, fixture('invalid.policy.yaml'));
    expect(result.code).toBe(1);
    expect(result.err).toContain("invalid.policy.yaml:1:1: unknown top-level key 'version'; expected one of: cases");
    expect(result.err).toContain("invalid.policy.yaml:1:1: missing required key 'cases'");
  });
});

describe('the signoff binary', () => {
  it('runs from the workspace bin and sets the exit code', async () => {
    const bin = fileURLToPath(new URL('../bin/signoff.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'policy', 'test', seed, seedCases]);
    expect(stdout).toContain('8 passed, 0 failed');
    const failing = promisify(execFile)(process.execPath, [bin, 'policy', 'check', fixture('invalid.policy.yaml')]);
    await expect(failing).rejects.toMatchObject({ code: 1 });
  });

  it('prints usage for an unknown command with exit code 2', async () => {
    const result = await run('policy', 'frobnicate');
    expect(result.code).toBe(2);
    expect(result.err).toContain("unknown command 'policy frobnicate'");
  });
});
