/**
 * Tool name globs. `*` matches within one dot-separated segment, `**` across segments, `?` one
 * character other than a dot, `{a,b}` one of the alternatives (which may hold `*`/`?` but no
 * nested braces). Everything else is literal, regex metacharacters included.
 */

const SPECIALS = /[*?{}]/;

/** True when a `tool` entry is a glob rather than an exact tool name. */
export function isToolGlob(pattern: string): boolean {
  return SPECIALS.test(pattern);
}

/** Why a glob is malformed, or `undefined` when it is fine. */
export function toolGlobProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'expected a tool name or glob, got an empty string';
  if (/\*{3,}/.test(pattern)) return `'${pattern}' has '***'; use '*' (one segment) or '**' (any segments)`;
  let depth = 0;
  let alternatives = 0;
  for (const char of pattern) {
    if (char === '{') {
      if (depth > 0) return `'${pattern}' nests braces; alternatives cannot contain '{'`;
      depth = 1;
      alternatives = 1;
    } else if (char === '}') {
      if (depth === 0) return `'${pattern}' has a '}' without a matching '{'`;
      if (alternatives < 2) return `'${pattern}' has braces with a single alternative; write '{a,b}' or drop the braces`;
      depth = 0;
    } else if (char === ',' && depth > 0) {
      alternatives += 1;
    }
  }
  if (depth > 0) return `'${pattern}' has a '{' that is never closed`;
  return undefined;
}

/**
 * Compiles a valid glob (see {@link toolGlobProblem}) to an anchored RegExp, once, at load time.
 *
 * @example
 * compileToolGlob('payment.*').test('payment.send'); // true
 * compileToolGlob('payment.*').test('payment.send.now'); // false
 */
export function compileToolGlob(pattern: string): RegExp {
  let source = '';
  let insideBraces = false;
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index] as string;
    if (char === '*') {
      if (pattern[index + 1] === '*') {
        source += '.*';
        index += 1;
      } else {
        source += '[^.]*';
      }
    } else if (char === '?') source += '[^.]';
    else if (char === '{') {
      source += '(?:';
      insideBraces = true;
    } else if (char === '}') {
      source += ')';
      insideBraces = false;
    } else if (char === ',' && insideBraces) source += '|';
    else source += char.replace(/[\\^$.|+()[\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
