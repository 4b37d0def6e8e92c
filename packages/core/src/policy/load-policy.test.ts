import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from './load-policy.js';

const seed = fileURLToPath(new URL('../../../../examples/policies/seed.yaml', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'signoff-load-policy-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const invalid = join(directory, 'invalid.yaml');
writeFileSync(invalid, 'rules:\n  - tool: a\n    action: maybe\n');

describe('loadPolicy', () => {
  it('names the file by the path it read, or by options.file when given', () => {
    expect(loadPolicy(pathToFileURL(seed)).file).toBe(seed);
    expect(loadPolicy(pathToFileURL(seed), { file: 'seed.yaml' }).file).toBe('seed.yaml');
    expect(() => loadPolicy(pathToFileURL(invalid), { file: 'typed.yaml' })).toThrow(/typed\.yaml:3:13: expected allow, deny or escalate/);
    expect(() => loadPolicy(pathToFileURL(`${seed}.missing`), { file: 'missing.yaml' })).toThrow(expect.objectContaining({ code: 'POLICY_NOT_FOUND', message: expect.stringContaining('cannot read policy file missing.yaml') }));
  });
});
