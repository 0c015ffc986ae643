/**
 * Peak resident memory of this process while one model runs: sampled every interval (llama.cpp
 * allocates outside the JS heap, so only RSS sees it) and at start and stop. The process-wide
 * peak (getrusage) never goes down, so it cannot tell models apart; this can.
 */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }

  /** Stops sampling; the peak in MB. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peak / (1024 * 1024);
  }
}

/** Highest RSS of the whole process so far (MB). */
export function processPeakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
