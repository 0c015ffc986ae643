/**
 * Time as the teacher sees it: retries, backoff and rate limits wait through a Clock so tests can
 * replace waiting with bookkeeping (a fake clock advances instantly and records every sleep).
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** A clock whose sleeps return at once and move its time forward; `sleeps` lists every wait asked for. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  private time: number;
  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
  }
}
