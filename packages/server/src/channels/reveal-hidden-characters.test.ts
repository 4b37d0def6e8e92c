import { describe, expect, it } from 'vitest';
import { revealHiddenCharacters } from './reveal-hidden-characters.js';

describe('revealHiddenCharacters', () => {
  it('escapes zero-width, bidi, separator, BOM, tag and control characters', () => {
    const hidden = ['\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069', '\ufeff', '\u00ad', '\u2060', '\u061c', '\u0000', '\u001b', '\u007f', '\u0085', '\u3164', '\ufe00', '\u{e0041}', '\u{e0100}', '\ue000', '\ud800'];
    for (const character of hidden) {
      const shown = revealHiddenCharacters(`a${character}b`);
      expect(shown).toMatch(/^a(\\u[0-9a-f]{4})+b$/);
      expect(JSON.parse(`"${shown}"`)).toBe(`a${character}b`);
    }
    expect(revealHiddenCharacters('pay\u202Eevil')).toBe('pay\\u202eevil');
  });

  it('leaves visible text alone: accents, scripts, emoji with their presentation selector', () => {
    const visible = 'café naïve Ωμέγα שלום مرحبا 你好 ❤️ 👩‍💻';
    expect(revealHiddenCharacters(visible)).toBe(visible.replace('\u200d', '\\u200d'));
    expect(revealHiddenCharacters('tab\there')).toBe('tab\\u0009here');
  });

  it('escapes line breaks in one-line fields and keeps them in multi-line text', () => {
    expect(revealHiddenCharacters('a\nb\r')).toBe('a\\u000ab\\u000d');
    expect(revealHiddenCharacters('a\nb\r', { keepLineBreaks: true })).toBe('a\nb\\u000d');
  });
});
