import type { AuditEventInput } from '../audit/audit-event.js';

export interface RefusalLimiterOptions {
  /** Appends to the audit log. */
  readonly record: (events: readonly AuditEventInput[]) => Promise<void>;
  /** The window refusals are counted in (default 1 min). */
  readonly windowMs?: number;
  /** Refusals per source and window written in full (default 5); the rest are summarized in one entry. */
  readonly auditedPerWindow?: number;
  /** Refusals per source and window answered normally (default 120); beyond, `429` with nothing written. */
  readonly answeredPerWindow?: number;
  /** Sources tracked at once (default 10,000); beyond, they share one overflow source. */
  readonly maxSources?: number;
  readonly now?: () => number;
}

interface SourceWindow {
  count: number;
  suppressed: number;
  readonly sample: AuditEventInput;
}

const OVERFLOW_SOURCE = 'other sources (too many to track)';

/**
 * Keeps refusals audited without letting anyone fill the disk with them: per source (an address
 * for unauthenticated calls, a key for authenticated ones) the first few refusals of each window
 * are written in full, the rest become one summary entry with a count when the window closes, and a
 * source past its allowance gets `429` without any write. Memory is bounded by `maxSources`.
 *
 * @example
 * const limiter = createRefusalLimiter({ record: (events) => store.appendAudit(events) });
 * if ((await limiter.refuse(address, event)) === 'throttled') return tooManyRequests();
 */
export function createRefusalLimiter(options: RefusalLimiterOptions) {
  const windowMs = options.windowMs ?? 60_000;
  const auditedPerWindow = options.auditedPerWindow ?? 5;
  const answeredPerWindow = options.answeredPerWindow ?? 120;
  const maxSources = options.maxSources ?? 10_000;
  const now = options.now ?? Date.now;
  let windowStart = Math.floor(now() / windowMs) * windowMs;
  let sources = new Map<string, SourceWindow>();
  const timer = setInterval(() => void roll().catch((error: unknown) => console.error('signoff: writing refusal summaries failed', error)), windowMs);
  timer.unref();

  /** Closes the current window: one summary entry per source that had refusals left unwritten. */
  async function roll(force = false): Promise<void> {
    const start = Math.floor(now() / windowMs) * windowMs;
    if (!force && start === windowStart) return;
    const closed = sources;
    const closedStart = windowStart;
    sources = new Map();
    windowStart = start;
    const summaries = [...closed].flatMap(([source, window]): AuditEventInput[] =>
      window.suppressed === 0
        ? []
        : [
            {
              ...window.sample,
              detail: {
                ...window.sample.detail,
                reason: `${window.suppressed} more refusal(s) like this one from ${source}, summarized`,
                source,
                count: window.suppressed,
                from: new Date(closedStart).toISOString(),
                to: new Date(closedStart + windowMs).toISOString(),
              },
            },
          ],
    );
    if (summaries.length > 0) await options.record(summaries);
  }

  return {
    /**
     * Counts a refusal from `source` and audits it (in full or summarized). `throttled` means the
     * source is over its allowance: answer `429` (see `retryAfterSeconds`).
     */
    async refuse(source: string, event: AuditEventInput): Promise<'answered' | 'throttled'> {
      await roll();
      const key = sources.has(source) || sources.size < maxSources ? source : OVERFLOW_SOURCE;
      const window = sources.get(key) ?? { count: 0, suppressed: 0, sample: event };
      sources.set(key, window);
      window.count += 1;
      if (window.count > answeredPerWindow) return 'throttled';
      if (window.count <= auditedPerWindow) await options.record([{ ...event, detail: { ...event.detail, source } }]);
      else window.suppressed += 1;
      return 'answered';
    },
    /** Seconds until the current window closes. */
    retryAfterSeconds(): number {
      return Math.max(1, Math.ceil((windowStart + windowMs - now()) / 1000));
    },
    /** Writes the summaries of the current window now (on shutdown). */
    async flush(): Promise<void> {
      clearInterval(timer);
      await roll(true);
    },
  };
}

export type RefusalLimiter = ReturnType<typeof createRefusalLimiter>;
