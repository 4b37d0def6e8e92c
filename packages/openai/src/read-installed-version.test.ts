import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { fakeProject } from './__fixtures__/fake-project.js';
import { readInstalledVersion } from './read-installed-version.js';

const manifestVersion = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

describe('readInstalledVersion', () => {
  it('reads the versions installed next to this package, although neither exports its package.json', () => {
    const require = createRequire(import.meta.url);
    expect(() => require.resolve('@openai/agents/package.json')).toThrow(/not defined by "exports"/);
    expect(readInstalledVersion('@openai/agents')).toBe(manifestVersion('@openai/agents'));
    expect(readInstalledVersion('openai')).toBe(manifestVersion('openai'));
  });

  it('walks up from the entry point past nested manifests, and finds ESM-only packages', () => {
    const from = fakeProject({ '@openai/agents': { version: '0.21.3' }, openai: { version: '7.2.0', esmOnly: true } });
    expect(readInstalledVersion('@openai/agents', from)).toBe('0.21.3');
    expect(readInstalledVersion('openai', from)).toBe('7.2.0');
  });

  it('is undefined for a package that is not installed', () => {
    expect(readInstalledVersion('@signoff/never-published', fakeProject({}))).toBeUndefined();
  });
});
