import type { Store } from '../store/store.js';
import type { OutboxMessage } from '../store/outbox-message.js';
import type { Channel } from './channel.js';

export interface OutboxDispatcherOptions {
  readonly store: Store;
  readonly channels: readonly Channel[];
  /** How often to look for due deliveries (they are also tried as soon as a change commits here). */
  readonly intervalMs?: number;
  /** How long a claimed delivery stays hidden from other replicas (default 60 s). */
  readonly leaseMs?: number;
  /** First retry delay; doubles per attempt with jitter, capped at `maxRetryDelayMs` (defaults 1 s, 1 h). */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** After this long a delivery is marked failed and audited (default 24 h). */
  readonly giveUpAfterMs?: number;
  readonly now?: () => Date;
}

/**
 * Delivers the outbox: claims due messages (replicas share them), hands each to its channel, and
 * records delivered / retry-with-backoff / failed-for-good. A message is only settled after its
 * channel returns, so a crash mid-delivery means a retry, never a loss; receivers de-duplicate on
 * the message id.
 */
export function startOutboxDispatcher(options: OutboxDispatcherOptions) {
  const { store } = options;
  const channels = new Map(options.channels.map((channel) => [channel.name, channel]));
  const now = options.now ?? (() => new Date());
  const leaseMs = options.leaseMs ?? 60_000;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 3_600_000;
  const giveUpAfterMs = options.giveUpAfterMs ?? 86_400_000;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = false;

  async function deliver(message: OutboxMessage): Promise<void> {
    const channel = channels.get(message.channel);
    try {
      if (!channel) throw new Error(`no channel '${message.channel}' is configured on this server`);
      if (message.topic === 'audit.head') {
        if (!channel.deliverHead) throw new Error(`channel '${message.channel}' does not publish audit heads`);
        await channel.deliverHead(message);
      } else if (message.topic === 'budget.exceeded' || message.topic === 'email.digest') {
        if (!channel.deliverNotice) throw new Error(`channel '${message.channel}' does not deliver ${message.topic} notices`);
        await channel.deliverNotice(message, store);
      } else {
        // Read at delivery and checked against the audit chain: a tampered request is never announced.
        const request = await store.getRequest(message.requestId);
        if (!request) throw new Error(`request ${message.requestId} not found`);
        await channel.deliver(message, request);
      }
      await store.settleOutbox(message.id, { outcome: 'delivered' });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const age = now().getTime() - Date.parse(message.createdAt);
      // Some failures no retry can fix (a callback address the server may not reach): give up now.
      const permanent = (error as { permanent?: unknown } | null)?.permanent === true;
      if (permanent || age >= giveUpAfterMs) {
        await store.settleOutbox(message.id, { outcome: 'failed', error: reason }, [
          {
            type: 'delivery.failed',
            ...('requestId' in message ? { requestId: message.requestId } : {}),
            actor: 'system',
            channel: 'system',
            detail: { messageId: message.id, channel: message.channel, topic: message.topic, target: message.target, attempts: message.attempts + 1, error: reason },
          },
        ]);
        return;
      }
      const delay = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** message.attempts) * (0.75 + Math.random() * 0.5);
      await store.settleOutbox(message.id, { outcome: 'retry', at: new Date(now().getTime() + delay), error: reason });
    }
  }

  /** Delivers everything due now; returns how many messages it handled. Runs once at a time. */
  function runOnce(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let handled = 0;
      do {
        again = false;
        for (;;) {
          const batch = await store.claimOutbox(now(), 20, leaseMs);
          if (batch.length === 0) break;
          await Promise.all(batch.map(deliver));
          handled += batch.length;
        }
      } while (again && !stopped);
      return handled;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const kick = () => {
    if (!stopped) runOnce().catch((error: unknown) => console.error('signoff: outbox delivery failed (will retry)', error));
  };
  const timer = setInterval(kick, options.intervalMs ?? 500);
  timer.unref();
  // A change can only have queued deliveries for a configured channel: with none, a claim after
  // every write finds nothing (it cost ~6% of a create's CPU), and the timer still settles
  // anything left in the outbox by an earlier configuration.
  const stopListening = options.channels.length > 0 ? store.onRequestChanged(kick) : () => undefined;

  return {
    runOnce,
    /** Stops claiming; waits for deliveries in flight to settle. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      stopListening();
      await running?.catch(() => undefined);
    },
  };
}

export type OutboxDispatcher = ReturnType<typeof startOutboxDispatcher>;
