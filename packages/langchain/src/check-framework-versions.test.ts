import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '@langchain/core/tools';
import { createSignoff, SignoffError } from '@signoff/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { policyFile } from './__fixtures__/payments-agent.js';
import { checkFrameworkVersions } from './check-framework-versions.js';

const apps: string[] = [];
afterAll(() => {
  for (const app of apps) rmSync(app, { recursive: true, force: true });
});

/**
 * An app installed the way npm lays it out (hoisted node_modules). `langchain` exports only its
 * entry point, like packages that do not export `./package.json`; the others export it.
 */
function npmApp(versions: { langchain?: string; core?: string; langgraph?: string } = {}): string {
  const app = mkdtempSync(join(tmpdir(), 'signoff-npm-app-'));
  apps.push(app);
  const install = (name: string, version: string, exportsPackageJson: boolean) => {
    const folder = join(app, 'node_modules', name);
    mkdirSync(join(folder, 'dist'), { recursive: true });
    writeFileSync(join(folder, 'dist', 'index.cjs'), 'module.exports = {};');
    const exports = { '.': { require: './dist/index.cjs', import: './dist/index.cjs' }, ...(exportsPackageJson ? { './package.json': './package.json' } : {}) };
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, version, exports }));
  };
  install('langchain', versions.langchain ?? '1.5.14', false);
  install('@langchain/core', versions.core ?? '1.4.0', true);
  install('@langchain/langgraph', versions.langgraph ?? '1.7.3', true);
  writeFileSync(join(app, 'server.js'), '');
  return join(app, 'server.js');
}

function refusal(run: () => unknown): SignoffError {
  try {
    run();
  } catch (error) {
    if (SignoffError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a SignoffError');
}

describe('checkFrameworkVersions', () => {
  it('accepts the frameworks this package resolves (pnpm layout: each exports ./package.json)', () => {
    const require = createRequire(import.meta.url);
    const installed = ['langchain', '@langchain/core', '@langchain/langgraph'].map((name) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version);
    expect(installed.every((version) => version.startsWith('1.'))).toBe(true);
    expect(() => checkFrameworkVersions()).not.toThrow();
  });

  it('accepts 1.x in an npm layout, finding a package.json that is not exported by walking up from the entry point', () => {
    expect(() => checkFrameworkVersions({ from: npmApp() })).not.toThrow();
  });

  it.each([
    { installed: { langchain: '0.3.36' }, says: 'supports langchain >=1.0.0 <2.0.0, but langchain 0.3.36 is installed' },
    { installed: { core: '2.0.0' }, says: 'supports @langchain/core >=1.1.0 <2.0.0, but @langchain/core 2.0.0 is installed' },
    { installed: { core: '1.0.4' }, says: 'supports @langchain/core >=1.1.0 <2.0.0, but @langchain/core 1.0.4 is installed' },
    { installed: { langgraph: '0.4.9' }, says: 'supports @langchain/langgraph >=1.0.0 <2.0.0, but @langchain/langgraph 0.4.9 is installed' },
  ])('refuses $installed with CONFIG_INVALID naming the installed version and the supported range', ({ installed, says }) => {
    const app = npmApp(installed);
    const error = refusal(() => checkFrameworkVersions({ from: app }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(says);
    expect(error.message).toContain(join(app, '..', 'node_modules'));
  });

  it('is enforced when the adapter is set up, not when it is imported', async () => {
    const app = npmApp({ langchain: '0.3.36' });
    vi.resetModules();
    vi.doMock('node:module', async (importOriginal) => {
      const original = await importOriginal<typeof import('node:module')>();
      return { ...original, createRequire: () => original.createRequire(app) };
    });
    try {
      const adapter = await import('./index.js');
      const signoff = createSignoff({ policy: policyFile, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'unused' } });
      const sendPayment = tool(async () => 'paid', { name: 'send_payment', description: 'Pay', schema: z.object({ amount: z.number() }) });
      for (const setup of [() => adapter.signoffMiddleware(signoff), () => adapter.wrapTool(sendPayment, signoff)]) {
        expect(refusal(setup)).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('langchain 0.3.36 is installed') });
      }
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });
});
