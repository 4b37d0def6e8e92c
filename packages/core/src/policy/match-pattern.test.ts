import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MatchesCase } from '../__fixtures__/decide-matches.js';
import { compileMatchPattern, matchPatternProblem } from './match-pattern.js';

const FIXTURE = fileURLToPath(new URL('../__fixtures__/decide-matches.ts', import.meta.url));

/**
 * How long a child may take to decide once its policy is loaded. Not a speed assertion: a linear
 * engine needs milliseconds here, while a backtracking one (JS RegExp, which took 4.3 s on 27
 * characters of such an argument, doubling per character) would not finish within the lifetime of
 * the machine. The limit only keeps a hung evaluation from hanging the run; the child is killed.
 */
const HANG_LIMIT_MS = 5_000;

interface Decided {
  readonly length: number;
  readonly compiled: boolean;
  readonly explained: boolean;
}

/** Decides one case in a child process; `'hung'` when it had not answered HANG_LIMIT_MS after loading. */
function decideInChild(matchesCase: MatchesCase): Promise<Decided | 'hung'> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(matchesCase)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      // The clock starts once the policy is loaded, so a slow start on a busy machine does not count.
      if (timer === undefined && output.startsWith('ready\n')) {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve('hung');
        }, HANG_LIMIT_MS);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = output.split('\n')[1];
      if (code === 0 && line) resolve(JSON.parse(line) as Decided);
      else if (code !== null) reject(new Error(`decide-matches exited with ${code}: ${output}`));
    });
  });
}

describe('matches runs in linear time, so no argument can stall the process', () => {
  // Each pattern loaded before (the load-time check missed all but (a+)+$), and each stalls a
  // backtracking engine on its input: exponentially for all but \s+$, which is quadratic — 0.16 s
  // at 10,000 characters, so it is also given 200,000 (about a minute for JS RegExp).
  const cases: ReadonlyArray<MatchesCase & { readonly matches: boolean }> = [
    { pattern: '(a|a)*b', unit: 'a', times: 10_000, matches: false },
    { pattern: '(a|aa)+$', unit: 'a', times: 9_999, tail: '!', matches: false },
    { pattern: String.raw`^(\w|\d|\.|-)+$`, unit: '1', times: 9_999, tail: '!', matches: false },
    { pattern: 'a*a*a*a*a*b', unit: 'a', times: 10_000, matches: false },
    { pattern: String.raw`\s+$`, unit: ' ', times: 9_999, tail: 'x', matches: false },
    { pattern: String.raw`\s+$`, unit: ' ', times: 199_999, tail: 'x', matches: false },
    { pattern: '(a+)+$', unit: 'a', times: 9_999, tail: '!', matches: false },
    // The same shapes when they do match, so a "never matches" engine cannot pass.
    { pattern: '(a|aa)+$', unit: 'a', times: 10_000, matches: true },
    { pattern: String.raw`^(\w|\d|\.|-)+$`, unit: 'a.1-', times: 2_500, matches: true },
    { pattern: String.raw`\s+$`, unit: 'x', times: 9_999, tail: ' ', matches: true },
  ];

  it.concurrent.each(cases.map((one) => ({ ...one, length: (one.head ?? '').length + one.unit.length * one.times + (one.tail ?? '').length })))(
    '$pattern against $length characters → $matches, in the compiled evaluator and explainDecision',
    async ({ matches, length, ...matchesCase }) => {
      expect(await decideInChild(matchesCase)).toEqual({ length, compiled: matches, explained: matches });
    },
    60_000,
  );
});

describe('matchPatternProblem', () => {
  it.each([
    String.raw`^\d{3}-\d{4}$`,
    String.raw`^[\w.+-]+@[\w-]+\.[a-z]{2,}$`,
    String.raw`^\s*$`,
    String.raw`\bsecret\b`,
    'a.*?b',
    '^(?:admin|root)$',
    '(?<user>[a-z]+)@acme',
    '(?i)^drop table',
    String.raw`[\d-z]`,
    String.raw`https?:\/\/`,
    String.raw`\x41`,
    'a{2,}',
    String.raw`\(?=`, // an optional literal '(' then '=': RE2's parser decides, not a text scan for '(?='
    '',
  ])('accepts %s, written as in JavaScript', (pattern) => {
    expect(matchPatternProblem(pattern)).toBeUndefined();
  });

  it('decides as JS RegExp did for the syntax both share, on ASCII text', () => {
    const patterns = [
      String.raw`^\d{3}-\d{4}$`,
      String.raw`\bab\b`,
      String.raw`^\s*\w+\s*$`,
      'a.*?b',
      '^(?:ab|a)+$',
      '[^a-c]{2,3}',
      'x|y$',
      String.raw`^[\w.+-]+@[\w-]+\.[a-z]{2,}$`,
      '(a|b)*c',
      String.raw`\S+@\S+`,
      '^$',
    ];
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'x', 'y', 'A', '1', '2', '-', '.', '@', '_', ' ', '\t', '\n'), maxLength: 12 });
    fc.assert(
      fc.property(fc.constantFrom(...patterns), text, (pattern, value) => {
        expect(compileMatchPattern(pattern).test(value)).toBe(new RegExp(pattern).test(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses what RE2 cannot parse with RE2’s own reason', () => {
    expect(matchPatternProblem('[a-')).toBe('invalid regular expression (RE2 syntax): missing closing ]: `[a-`');
    expect(matchPatternProblem('a{1001}')).toBe('invalid regular expression (RE2 syntax): invalid repeat count: `{1001}`');
  });

  it('accepts a pattern of exactly 2000 instructions and refuses one more', () => {
    expect(matchPatternProblem(String.raw`\d{1000}\d{998}`)).toBeUndefined();
    expect(matchPatternProblem(String.raw`\d{1000}\d{999}`)).toBe(
      'regular expression compiles to 2001 RE2 instructions (at most 2000); use smaller repeat counts',
    );
  });

  it('compiles to a stateless search: the same answer every time', () => {
    const pattern = compileMatchPattern('b');
    expect(['abc', 'abc', 'xbx', 'zzz', 'abc'].map((value) => pattern.test(value))).toEqual([true, true, true, false, true]);
  });
});
