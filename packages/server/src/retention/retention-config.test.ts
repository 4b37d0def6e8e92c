import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveDirOf, loadServerConfig } from '../config/server-config.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-retention-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const base = 'policy: ./policy.yaml\napi_keys:\n  - { name: agent, kind: agent, key_sha256: "' + 'a'.repeat(64) + '" }\n';

describe('retention in signoff.yaml', () => {
  it('reads days, the archive directory (relative to the file), the interval and the cap per run', () => {
    const file = join(directory, 'signoff.yaml');
    writeFileSync(file, `${base}retention: { resolved_after_days: 90, archive_dir: ./archive }\n`);
    expect(loadServerConfig(file).retention).toEqual({ resolvedAfterMs: 90 * 86_400_000, archiveDir: join(directory, 'archive'), intervalMs: 3_600_000, maxRequestsPerRun: 10_000 });
    writeFileSync(file, `${base}retention: { resolved_after_days: 90, archive_dir: ./archive, interval_minutes: 5, max_requests_per_run: 2000 }\n`);
    expect(loadServerConfig(file).retention).toMatchObject({ intervalMs: 300_000, maxRequestsPerRun: 2_000 });
    expect(archiveDirOf(file)).toBe(join(directory, 'archive'));
    writeFileSync(file, base);
    expect(loadServerConfig(file).retention).toBeUndefined();
    expect(archiveDirOf(file)).toBeUndefined();
  });

  it('names the line and column of a wrong value or an unknown key', () => {
    const file = join(directory, 'bad.yaml');
    writeFileSync(file, `${base}retention:\n  resolved_after_days: -1\n  archive_dir: ./archive\n  keep: forever\n`);
    // Every problem at once, each where it is.
    expect(() => loadServerConfig(file)).toThrow(/bad\.yaml:5:\d+[\s\S]*bad\.yaml:7:\d+.*keep/);
  });
});
