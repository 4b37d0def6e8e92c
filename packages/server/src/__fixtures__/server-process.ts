import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** A control plane running in its own process, so tests and benches can kill -9 it. */
export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
}

/**
 * Starts `run-server.ts` (what `signoff serve` runs) on a config file in a child process and
 * resolves once it listens. `script` may name a compiled build of it instead; `nodeOptions` go to
 * node before it (e.g. `--cpu-prof`).
 */
export function spawnServer(config: string, options: { stderr?: 'inherit' | 'ignore'; script?: string; nodeOptions?: readonly string[] } = {}): Promise<ServerProcess> {
  const script = options.script ?? fileURLToPath(new URL('./run-server.ts', import.meta.url));
  const args = [...(options.nodeOptions ?? []), ...(script.endsWith('.ts') ? ['--import', 'tsx', script, config] : [script, config])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening (\S+)/.exec(chunk.toString());
      if (match) resolve({ url: match[1] as string, child });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** SIGKILLs the process and waits until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** A free loopback port (for a server whose URL must be known before it starts, or restarts on). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
