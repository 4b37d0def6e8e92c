import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fakeProject } from './__fixtures__/fake-project.js';
import { findInstalledPackage, readInstalledVersion } from './find-installed-package.js';

describe('findInstalledPackage', () => {
  it('reads a package installed next to this one from its own manifest', () => {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve('zod/package.json');
    expect(findInstalledPackage('zod', import.meta.url)).toEqual({
      version: (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version,
      manifest,
    });
  });

  it('walks up from the entry point past nested manifests, and finds ESM-only packages', () => {
    const from = fakeProject({ '@openai/agents': { version: '0.21.3' }, openai: { version: '7.2.0', esmOnly: true } });
    expect(() => createRequire(from).resolve('@openai/agents/package.json')).toThrow(/not defined by "exports"/);
    expect(readInstalledVersion('@openai/agents', from)).toBe('0.21.3');
    expect(readInstalledVersion('openai', from)).toBe('7.2.0');
    expect(findInstalledPackage('openai', from)?.manifest).toBe(fileURLToPath(new URL('node_modules/openai/package.json', from)));
  });

  it('is undefined for a package that is not installed', () => {
    expect(findInstalledPackage('@signoff/never-published', fakeProject({}))).toBeUndefined();
  });
});
