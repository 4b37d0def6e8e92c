/** Where a command writes: stdout for results, stderr for problems. Tests pass their own. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** The process's own streams. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Thrown for wrong usage; `main` prints it with the usage text and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
