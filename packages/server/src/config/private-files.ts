import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';

/**
 * Writes a file only its owner can read (0600), also when it existed with looser permissions:
 * configs hold session secrets and key hashes, and whoever reads them can mint inbox sessions.
 *
 * @example
 * writePrivateFile('.signoff/signoff.yaml', yamlText);
 */
export function writePrivateFile(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Creates (or tightens) a directory only its owner can enter (0700). */
export function makePrivateDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  chmodSync(directory, 0o700);
}

/**
 * Creates an empty file 0600 if it does not exist yet, so a database opened on it is private from
 * its first byte (SQLite gives its -wal and -shm files the database file's permissions).
 */
export function createPrivateFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
}

/**
 * Files holding secrets (or the database) that other users of the machine can read, as warnings
 * for `signoff serve` to print. Windows has no such modes: nothing is reported there.
 *
 * @example
 * for (const warning of readableByOthers([config.file, databaseFile])) console.warn(warning);
 */
export function readableByOthers(files: readonly string[]): string[] {
  if (process.platform === 'win32') return [];
  return files.flatMap((file) => {
    if (!existsSync(file)) return [];
    const mode = statSync(file).mode & 0o777;
    return mode & 0o077
      ? [`${file} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); it holds secrets or approvals: chmod 600 ${file}`]
      : [];
  });
}
