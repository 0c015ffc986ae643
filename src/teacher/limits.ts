import type { Clock } from './clock.js';

/**
 * A token bucket for "N per minute" limits (requests or tokens). It holds ten seconds' worth (at
 * least one unit), refills continuously, and serves waiters in arrival order. A request larger
 * than the bucket waits for a full bucket and leaves it in debt, so big prompts still pass and the
 * average rate holds. `adjust` books the difference once the real token count is known.
 */
export class RateLimiter {
  private readonly capacity: number;
  private readonly perMs: number;
  private available: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    if (!(perMinute > 0)) throw new Error(`rate limit must be positive, got ${perMinute}`);
    this.capacity = Math.max(1, perMinute / 6);
    this.perMs = perMinute / 60_000;
    this.available = this.capacity;
    this.last = clock.now();
  }

  acquire(amount = 1): Promise<void> {
    const turn = this.queue.then(() => this.take(amount));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Books `delta` more units (negative gives units back), e.g. real tokens minus the estimate. */
  adjust(delta: number): void {
    this.refill();
    this.available = Math.min(this.capacity, this.available - delta);
  }

  private refill(): void {
    const now = this.clock.now();
    this.available = Math.min(this.capacity, this.available + (now - this.last) * this.perMs);
    this.last = now;
  }

  private async take(amount: number): Promise<void> {
    const need = Math.min(amount, this.capacity);
    for (;;) {
      this.refill();
      if (this.available >= need - 1e-9) {
        this.available -= amount;
        return;
      }
      await this.clock.sleep(Math.ceil((need - this.available) / this.perMs));
    }
  }
}

/** Runs `fn` over items with at most `concurrency` in flight; stops taking new items once `stop()` is true. */
export async function runPool<T>(
  items: Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (;;) {
      if (stop()) return;
      const next = iterator.next();
      if (next.done) return;
      await fn(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
