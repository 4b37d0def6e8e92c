import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** How a fake package is published: like `@openai/agents` (require + import exports), or ESM only. */
export interface FakePackage {
  readonly version: string;
  readonly esmOnly?: boolean;
}

/**
 * A throwaway project with the given packages installed under `node_modules` the way npm lays them
 * out (an entry file under `dist/`, no exported package.json); returns the URL of a module in it.
 */
export function fakeProject(packages: Record<string, FakePackage>): URL {
  const root = mkdtempSync(join(tmpdir(), 'signoff-app-'));
  for (const [name, { version, esmOnly }] of Object.entries(packages)) {
    const directory = join(root, 'node_modules', ...name.split('/'));
    mkdirSync(join(directory, 'dist'), { recursive: true });
    const exports = esmOnly ? { '.': { import: './dist/index.mjs' } } : { '.': { require: './dist/index.js', import: './dist/index.mjs' } };
    writeFileSync(join(directory, 'package.json'), JSON.stringify({ name, version, exports }));
    writeFileSync(join(directory, 'dist', 'index.js'), 'module.exports = {};\n');
    writeFileSync(join(directory, 'dist', 'index.mjs'), 'export {};\n');
    // Some packages ship a nested manifest (e.g. `{"type":"module"}`) that is not the package's own.
    writeFileSync(join(directory, 'dist', 'package.json'), JSON.stringify({ type: 'commonjs' }));
  }
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }));
  return pathToFileURL(join(root, 'app.js'));
}
