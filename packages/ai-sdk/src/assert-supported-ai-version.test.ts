import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSignoff, SignoffError } from '@signoff/core';
import { afterAll, describe, expect, it } from 'vitest';
import { policy } from './__fixtures__/payments.js';
import { assertSupportedAiVersion, installedAiVersion } from './assert-supported-ai-version.js';
import { signoffToolApproval } from './signoff-tool-approval.js';
import { withSignoff } from './with-signoff.js';

const require = createRequire(import.meta.url);
const apps = mkdtempSync(join(tmpdir(), 'signoff-ai-version-'));
afterAll(() => rmSync(apps, { recursive: true, force: true }));

/** An app folder whose node_modules/ai is `ai` (a symlink to a real install, or files written here); returns a module URL inside it. */
function appWith(name: string, ai: { link: string } | { files: Record<string, string> }): URL {
  const modules = join(apps, name, 'node_modules');
  mkdirSync(modules, { recursive: true });
  if ('link' in ai) symlinkSync(ai.link, join(modules, 'ai'), 'dir');
  else {
    for (const [file, text] of Object.entries(ai.files)) {
      mkdirSync(join(modules, 'ai', file, '..'), { recursive: true });
      writeFileSync(join(modules, 'ai', file), text);
    }
  }
  return pathToFileURL(join(apps, name, 'index.js'));
}

function refusal(version: string): unknown {
  try {
    assertSupportedAiVersion(version);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('assertSupportedAiVersion', () => {
  it('accepts ai 7 releases and refuses other majors with CONFIG_INVALID naming both versions', () => {
    for (const version of ['7.0.0', '7.0.173', '7.4.2-beta.1']) expect(() => assertSupportedAiVersion(version)).not.toThrow();
    for (const version of ['6.0.326', '5.0.0', '8.0.0', 'not-a-version']) {
      const error = refusal(version);
      expect(SignoffError.isInstance(error) && error.code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toContain(`the installed ai is ${version}`);
      expect((error as Error).message).toContain('^7.0.0');
    }
  });

  it('reads the ai this package imports, and the ai a consumer installed (ai 6 is refused at setup)', () => {
    const ours = JSON.parse(readFileSync(join(realpathSync(join(require.resolve('ai'), '..', '..')), 'package.json'), 'utf8')) as { version: string };
    expect(installedAiVersion()).toBe(ours.version);

    const v6 = realpathSync(join(require.resolve('ai-v6/package.json'), '..'));
    const app = appWith('npm-app', { link: v6 });
    expect(installedAiVersion(app)).toBe('6.0.326');
    expect(() => assertSupportedAiVersion(installedAiVersion(app))).toThrow(/installed ai is 6\.0\.326/);
  });

  it('finds the version when the package does not export its package.json', () => {
    const app = appWith('hidden-manifest', {
      files: {
        'package.json': JSON.stringify({ name: 'ai', version: '7.9.0', type: 'module', exports: { '.': { import: './dist/index.js', default: './dist/index.js' } } }),
        'dist/package.json': JSON.stringify({ type: 'module' }),
        'dist/index.js': 'export {};',
      },
    });
    expect(installedAiVersion(app)).toBe('7.9.0');
  });

  it('lets signoffToolApproval and withSignoff set up under the installed ai 7', () => {
    const signoff = createSignoff({ policy, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'unused' } });
    expect(() => signoffToolApproval(signoff)).not.toThrow();
    expect(() => withSignoff({}, signoff)).not.toThrow();
  });
});
