import { RE2JS, RE2JSSyntaxException } from 're2js';

/**
 * `matches` patterns are RE2 syntax, run by re2js (a pure-JS port of RE2/J). RE2 decides a match in
 * one pass over the input without backtracking, so no argument can make a decision take more than
 * time linear in its length — the JS RegExp engine took seconds on a 27-character argument against
 * `(a|aa)+$`, stalling the whole process. The price: RE2 has no lookaround and no backreferences.
 */

/** A compiled `matches` pattern: an unanchored search, like `RegExp#test`. Stateless, so it can be shared. */
export interface MatchPattern {
  test(value: string): boolean;
}

/**
 * The most RE2 instructions a pattern may compile to. When the DFA cannot cache a pattern's states
 * the cost per input character grows with this size, and counted repetition multiplies it past what
 * the length bound suggests: `\p{L}{1000}` repeated 90 times fits in 1,000 characters, compiles to
 * 90,000 instructions and took 5 minutes on a 100 KB argument; 2,000 instructions take ~0.3 s there.
 */
export const MAX_PATTERN_INSTRUCTIONS = 2_000;

const UNSUPPORTED_NOTE = 'matches uses RE2 syntax, which runs in linear time and so has no lookahead, lookbehind, backreferences, atomic groups or possessive quantifiers';

/**
 * Compiles a `matches` pattern that {@link matchPatternProblem} accepted — once, at load time.
 * Each search then allocates a few short-lived objects inside re2js (unlike the rest of evaluation).
 *
 * @example
 * compileMatchPattern('^acct_[0-9a-z]{8}$').test('acct_12ab34cd'); // true
 */
export function compileMatchPattern(pattern: string): MatchPattern {
  return RE2JS.compile(pattern);
}

/**
 * Why a pattern cannot be a `matches` operand, or `undefined` when it can: invalid RE2 syntax, a
 * construct RE2 does not support (named as such), or a program over {@link MAX_PATTERN_INSTRUCTIONS}.
 *
 * @example
 * matchPatternProblem('(a)\\1'); // "unsupported regular expression: backreference `\1` — matches uses RE2 syntax, …"
 */
export function matchPatternProblem(pattern: string): string | undefined {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    if (!(error instanceof RE2JSSyntaxException)) return `invalid regular expression: ${(error as Error).message}`;
    const fragment = error.input ?? '';
    const unsupported = unsupportedConstruct(error.error, fragment);
    if (unsupported) return `unsupported regular expression: ${unsupported} — ${UNSUPPORTED_NOTE}`;
    const hint = fragment === '\\u' ? ' (RE2 writes a code point as \\x{00E9})' : '';
    return `invalid regular expression (RE2 syntax): ${error.error}${fragment ? `: \`${fragment}\`` : ''}${hint}`;
  }
  const size = compiled.re2().numberOfInstructions() as number;
  if (size > MAX_PATTERN_INSTRUCTIONS) {
    return `regular expression compiles to ${size} RE2 instructions (at most ${MAX_PATTERN_INSTRUCTIONS}); use smaller repeat counts`;
  }
  return undefined;
}

/** Names the construct behind an RE2 syntax error when it is one RE2 leaves out on purpose. */
function unsupportedConstruct(error: string, fragment: string): string | undefined {
  if (error === 'invalid escape sequence') {
    if (/^\\[1-9]$/.test(fragment)) return `backreference \`${fragment}\``;
    if (fragment === '\\k' || fragment === '\\g') return `named backreference \`${fragment}\``;
  }
  if (error === 'invalid or unsupported Perl syntax') {
    if (fragment === '(?=' || fragment === '(?!') return `lookahead \`${fragment}\``;
    if (fragment === '(?>') return 'atomic group `(?>`';
  }
  if (error === 'invalid named capture' && (fragment.startsWith('(?<=') || fragment.startsWith('(?<!'))) {
    return `lookbehind \`${fragment.slice(0, 4)}\``;
  }
  if (error === 'invalid nested repetition operator' && fragment.endsWith('+')) return `possessive quantifier \`${fragment}\``;
  return undefined;
}
