import { describe, expect, it } from 'vitest';
import { assertSupportedSdkVersion } from './assert-supported-sdk-version.js';

describe('assertSupportedSdkVersion', () => {
  it('accepts the installed SDK and 0.3.x from 0.3.332', () => {
    expect(() => assertSupportedSdkVersion()).not.toThrow();
    expect(() => assertSupportedSdkVersion('0.3.400')).not.toThrow();
  });

  it.each(['0.2.111', '0.3.100', '0.4.0', '1.0.0'])('refuses %s with CONFIG_INVALID', (version) => {
    expect(() => assertSupportedSdkVersion(version)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
