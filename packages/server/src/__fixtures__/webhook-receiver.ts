import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local webhook endpoint and what it received, in arrival order. */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: Array<{ headers: IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on loopback for webhook tests: it records every attempt and answers 503 to
 * the first `failures` attempts of each delivery (by `webhook-id`), then 204.
 */
export function startWebhookReceiver(options: { failures?: number } = {}): Promise<WebhookReceiver> {
  const attempts = new Map<string, number>();
  const received: WebhookReceiver['received'] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      const id = String(request.headers['webhook-id']);
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      response.writeHead(attempt <= (options.failures ?? 0) ? 503 : 204).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
        received,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}
