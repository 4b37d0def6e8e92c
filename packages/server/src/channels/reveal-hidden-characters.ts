/**
 * Characters a reader cannot see, or that move the text around them: controls (Cc, incl. line
 * breaks in one-line fields), format characters (Cf: zero-width spaces and joiners, bidi marks,
 * embeddings, overrides and isolates, U+FEFF, tag characters), line and paragraph separators,
 * lone surrogates, private use, and invisible letters and selectors outside Cf (Hangul fillers,
 * the combining grapheme joiner, Khmer inherent vowels, Mongolian and variation selectors — but
 * not U+FE0E/U+FE0F, which only pick text or emoji style for the visible character before them).
 */
const HIDDEN =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0d\uffa0\u{e0100}-\u{e01ef}]/gu;

export interface RevealOptions {
  /** Keep `\n` as a line break (pretty-printed JSON); otherwise it is escaped like the rest. */
  readonly keepLineBreaks?: boolean;
}

/**
 * Shows every hidden or direction-changing character as a visible `\uXXXX` escape (UTF-16 code
 * units, so in JSON text the escape parses back to the same string), so an agent-supplied value
 * cannot hide, fake or reorder what a reviewer reads: `pay\u202Eevil` shows as `pay\u202eevil`,
 * not as `paylive`. Every channel runs the tool name, the reason and the args through it.
 *
 * @example
 * revealHiddenCharacters('acme\u200b.com'); // 'acme\\u200b.com'
 * revealHiddenCharacters('{\n  "to": "\u202emallory"\n}', { keepLineBreaks: true }); // '{\n  "to": "\\u202emallory"\n}'
 */
export function revealHiddenCharacters(text: string, options: RevealOptions = {}): string {
  return text.replace(HIDDEN, (character) => (character === '\n' && options.keepLineBreaks ? character : escapeCodeUnits(character)));
}

function escapeCodeUnits(character: string): string {
  let escaped = '';
  for (let index = 0; index < character.length; index += 1) escaped += `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`;
  return escaped;
}
