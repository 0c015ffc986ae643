import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/teacher/clock.js';
import { RateLimiter, runPool } from '../../src/teacher/limits.js';
import { Budget } from '../../src/teacher/metered.js';

describe('rate limiters (fake clock)', () => {
  it('lets ten seconds worth through at once, then paces requests per minute', async () => {
    const clock = new FakeClock();
    const rpm = new RateLimiter(60, clock);
    const times: number[] = [];
    for (let i = 0; i < 13; i++) {
      await rpm.acquire();
      times.push(clock.now() - 1_700_000_000_000);
    }
    expect(times.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(times.slice(10)).toEqual([1000, 2000, 3000]);
  });

  it('paces tokens per minute, lets a request larger than the bucket through after a full refill, and books corrections', async () => {
    const clock = new FakeClock();
    const tpm = new RateLimiter(6000, clock); // 100 tokens/s, bucket of 1000
    await tpm.acquire(800);
    await tpm.acquire(700); // needs 500 more: 5 s
    expect(clock.now() - 1_700_000_000_000).toBe(5000);
    await tpm.acquire(5000); // larger than the bucket: waits for a full bucket (10 s), then runs into debt
    expect(clock.now() - 1_700_000_000_000).toBe(15000);
    tpm.adjust(-4000); // the answer used 4000 fewer tokens than estimated: the debt is gone
    await tpm.acquire(1000); // from 0 to 1000 takes 10 s (without the correction: 50 s)
    expect(clock.now() - 1_700_000_000_000).toBe(25000);
  });

  it('serves concurrent waiters in arrival order', async () => {
    const clock = new FakeClock();
    const rpm = new RateLimiter(6, clock); // one per 10 s, bucket of 1
    const order: number[] = [];
    await Promise.all([0, 1, 2].map((i) => rpm.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2]);
  });
});

describe('concurrency pool and budget', () => {
  it('keeps at most N tasks in flight and stops taking new items when told', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await runPool(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        seen.push(i);
        inFlight--;
      },
      () => seen.length >= 7,
    );
    expect(peak).toBe(3);
    expect(seen.length).toBeGreaterThanOrEqual(7);
    expect(seen.length).toBeLessThanOrEqual(9);
  });

  it('refuses a call whose estimate would pass the limit, counting calls in flight', () => {
    const budget = new Budget(1);
    expect(budget.reserve(0.4)).toBe(true);
    expect(budget.reserve(0.4)).toBe(true);
    expect(budget.reserve(0.4)).toBe(false);
    budget.settle(0.4, 0.1);
    expect(budget.reserve(0.4)).toBe(true);
    expect(new Budget(undefined).reserve(1e9)).toBe(true);
  });
});
