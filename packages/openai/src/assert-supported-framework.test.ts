import { createSignoff, SignoffError } from '@signoff/core';
import { describe, expect, it, vi } from 'vitest';
import { assertSupportedFramework } from './assert-supported-framework.js';

const refusal = (run: () => unknown): SignoffError => {
  try {
    run();
  } catch (error) {
    if (SignoffError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('assertSupportedFramework', () => {
  it('accepts the majors the adapter was built for (the installed ones too)', () => {
    expect(() => assertSupportedFramework('@openai/agents')).not.toThrow();
    expect(() => assertSupportedFramework('openai')).not.toThrow();
    expect(() => assertSupportedFramework('@openai/agents', () => '0.27.1')).not.toThrow();
    expect(() => assertSupportedFramework('openai', () => '7.0.0')).not.toThrow();
  });

  it.each([
    ['@openai/agents', '1.0.0', '>=0.20.0 <1'],
    ['@openai/agents', '0.19.2', '>=0.20.0 <1'],
    ['openai', '6.9.1', '>=7.0.0 <8'],
    ['openai', '8.0.0-beta.1', '>=7.0.0 <8'],
  ] as const)('refuses %s@%s, naming it and the supported range', (framework, version, range) => {
    const error = refusal(() => assertSupportedFramework(framework, () => version));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`@signoff/openai supports ${framework} ${range}, but ${framework}@${version} is installed: install a supported version (npm install ${framework}@"${range}")`);
  });

  it('refuses when the framework is not installed', () => {
    const error = refusal(() => assertSupportedFramework('@openai/agents', () => undefined));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^@signoff\/openai needs @openai\/agents >=0\.20\.0 <1, and none is installed/) });
  });

  it('refuses when the adapter is set up, not when it is imported', async () => {
    vi.resetModules();
    vi.doMock('./read-installed-version.js', () => ({ readInstalledVersion: (name: string) => (name === 'openai' ? '6.2.0' : '1.1.0') }));
    try {
      const [{ withSignoff }, { resolveInterruptions }, { gateToolCalls }, { resumeToolCalls }] = await Promise.all([
        import('./with-signoff.js'),
        import('./resolve-interruptions.js'),
        import('./gate-tool-calls.js'),
        import('./resume-tool-calls.js'),
      ]);
      const signoff = createSignoff({ policy: 'version: 1\ndefault: deny\nrules: []\n', controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'unused' } });
      const agentsRefusal = /^@signoff\/openai supports @openai\/agents >=0\.20\.0 <1, but @openai\/agents@1\.1\.0 is installed/;
      expect(() => withSignoff({} as never, signoff)).toThrow(agentsRefusal);
      await expect(resolveInterruptions({} as never, signoff)).rejects.toThrow(agentsRefusal);
      await expect(gateToolCalls([], { signoff, tools: {} })).rejects.toThrow(/^@signoff\/openai supports openai >=7\.0\.0 <8, but openai@6\.2\.0 is installed/);
      await expect(resumeToolCalls({ version: 1, calls: [] }, { signoff, tools: {} })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      vi.doUnmock('./read-installed-version.js');
      vi.resetModules();
    }
  });
});
