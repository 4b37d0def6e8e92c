import { describe, expect, test } from 'vitest';
import { assertSupportedMastraVersion, SUPPORTED_MASTRA_RANGE } from './assert-supported-mastra-version.js';

describe('assertSupportedMastraVersion', () => {
  test('accepts the installed @mastra/core and later 1.x releases', () => {
    expect(() => assertSupportedMastraVersion()).not.toThrow();
    expect(() => assertSupportedMastraVersion('1.71.0')).not.toThrow();
    expect(() => assertSupportedMastraVersion('1.90.2')).not.toThrow();
  });

  test('refuses releases older than the tested ones, and other majors', () => {
    for (const version of ['1.20.0', '0.24.9', '2.0.0', 'next']) {
      expect(() => assertSupportedMastraVersion(version)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(version) }));
    }
    expect(() => assertSupportedMastraVersion('1.20.0')).toThrow(SUPPORTED_MASTRA_RANGE);
  });
});
