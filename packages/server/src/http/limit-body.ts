import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** How much of a refused body is still read (and dropped) so the client gets to read the 413. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 10_000;

/**
 * `hono/body-limit` plus what a client needs to hear a 413: `Connection: close`, so a keep-alive
 * client does not send its next request on a connection that is about to close, and a lingering
 * read of the rest of the body (bounded), so a client still writing it sees the response instead
 * of `EPIPE` or a reset.
 *
 * @example
 * app.use('/v1/approvals/*', limitBody(256 * 1024, (context) => apiError(context, 413, 'BODY_TOO_LARGE', 'too large')));
 */
export function limitBody(maxSize: number, onError: (context: Context) => Response | Promise<Response>): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (context) => {
      context.header('connection', 'close');
      linger((context.env as { incoming?: IncomingMessage } | undefined)?.incoming);
      return onError(context);
    },
  });
}

function linger(incoming: IncomingMessage | undefined): void {
  if (!incoming || incoming.readableEnded || incoming.destroyed) return;
  let read = 0;
  const stop = () => {
    clearTimeout(timer);
    incoming.socket?.destroySoon();
  };
  const timer = setTimeout(stop, LINGER_MS);
  timer.unref();
  incoming.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > LINGER_BYTES) stop();
  });
  incoming.once('end', () => clearTimeout(timer));
  incoming.resume();
}
