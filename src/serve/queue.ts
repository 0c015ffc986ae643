import { httpErrors } from './errors.js';

/**
 * Admission control for one model: one request runs at a time, at most `maxWaiting` wait behind
 * it, and the rest are refused at once (HTTP 429 with a Retry-After estimated from recent
 * request durations) rather than piling up.
 */
export class RequestQueue {
  private running = false;
  private readonly waiting: Array<{ start: () => void; fail: (err: Error) => void }> = [];
  private averageMs = 1000;
  private closed = false;

  constructor(readonly maxWaiting: number) {
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new Error(`queue length must be a non-negative integer, got ${maxWaiting}`);
  }

  get pending(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /** Runs `task` when its turn comes; a signal aborted while waiting removes it from the line. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw httpErrors.shuttingDown();
    if (this.running) {
      if (this.waiting.length >= this.maxWaiting) throw httpErrors.queueFull(this.retryAfterSeconds());
      await new Promise<void>((resolve, reject) => {
        const entry = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          fail: (err: Error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(err);
          },
        };
        const onAbort = (): void => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('request aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
    }
    // A waiter is handed the slot directly (running stays true), so no newcomer slips in between.
    this.running = true;
    const started = Date.now();
    try {
      return await task();
    } finally {
      this.averageMs = 0.7 * this.averageMs + 0.3 * (Date.now() - started);
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running = false;
    }
  }

  /** Refuses everything still waiting; the running task finishes. */
  close(): void {
    this.closed = true;
    for (const entry of this.waiting.splice(0)) entry.fail(httpErrors.shuttingDown());
  }

  private retryAfterSeconds(): number {
    const seconds = Math.ceil((this.averageMs * (this.waiting.length + 1)) / 1000);
    return Math.min(60, Math.max(1, seconds));
  }
}
