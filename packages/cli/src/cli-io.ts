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

/**
 * `signoff policy explain … | head` closes the pipe early: that is the reader's choice, not an
 * error, so the CLI stops quietly instead of dying with an unhandled EPIPE trace.
 */
export function exitQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
