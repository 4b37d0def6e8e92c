import { createServer, type AddressInfo, type Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback (no TLS, no auth) that parses every message it accepts. */
export interface TestMailServer {
  readonly port: number;
  readonly url: string;
  readonly received: ParsedMail[];
  close(): Promise<void>;
}

/**
 * Starts an in-process SMTP server (the `smtp-server` package) on 127.0.0.1; `port` 0 picks a free one.
 *
 * @example
 * const mail = await startTestMailServer();
 * await expect.poll(() => mail.received.length).toBe(2);
 */
export async function startTestMailServer(port = 0): Promise<TestMailServer> {
  const received: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          received.push(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `smtp://127.0.0.1:${bound}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A port where SMTP is "down": every connection is accepted and dropped at once. Counts the attempts,
 * so a test knows a delivery failed before it brings the real server up on the same port.
 */
export async function startRefusingPort(): Promise<{ readonly port: number; attempts(): number; close(): Promise<void> }> {
  let attempts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    attempts += 1;
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export { freePort } from '../../__fixtures__/server-process.js';
