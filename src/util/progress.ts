import type { Logger } from './log.js';

/** Counts work done, and shows count, rate and ETA at most a few times a second. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private extra: () => string = () => '';

  constructor(
    private readonly logger: Logger,
    private readonly label: string,
    private total: number | undefined = undefined,
    private readonly unit = 'items',
  ) {}

  setTotal(total: number | undefined): void {
    this.total = total;
  }

  /** Extra fields (accepted/rejected, cache hits, spend) appended to the line. */
  setExtra(extra: () => string): void {
    this.extra = extra;
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.logger.progressLine(this.render(now));
  }

  get count(): number {
    return this.done;
  }

  get seconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  get rate(): number {
    const s = this.seconds;
    return s > 0 ? this.done / s : 0;
  }

  render(now = Date.now()): string {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const parts = [`${this.label}: ${this.done}${this.total !== undefined ? `/${this.total}` : ''} ${this.unit}`];
    parts.push(`${formatRate(rate)}/s`);
    if (this.total !== undefined && rate > 0) parts.push(`ETA ${formatDuration((this.total - this.done) / rate)}`);
    const extra = this.extra();
    if (extra) parts.push(extra);
    return parts.join(' | ');
  }

  finish(): void {
    this.logger.clearProgress();
  }
}

export function formatRate(rate: number): string {
  if (rate >= 100) return Math.round(rate).toString();
  if (rate >= 10) return rate.toFixed(1);
  return rate.toFixed(2);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
