/**
 * All human-facing output goes through here, to stderr, so stdout stays clean for --json results.
 * Progress lines redraw in place on a TTY and are silent otherwise (and in --json mode).
 */
export interface LoggerOptions {
  quiet?: boolean;
  json?: boolean;
  stream?: NodeJS.WriteStream;
}

export class Logger {
  readonly quiet: boolean;
  readonly json: boolean;
  private readonly stream: NodeJS.WriteStream;
  private progressShown = false;

  constructor(options: LoggerOptions = {}) {
    this.quiet = options.quiet ?? false;
    this.json = options.json ?? false;
    this.stream = options.stream ?? process.stderr;
  }

  get isTTY(): boolean {
    return Boolean(this.stream.isTTY);
  }

  info(message: string): void {
    if (this.quiet) return;
    this.clearProgress();
    this.stream.write(message + '\n');
  }

  warn(message: string): void {
    this.clearProgress();
    this.stream.write(`warning: ${message}\n`);
  }

  error(message: string): void {
    this.clearProgress();
    this.stream.write(`error: ${message}\n`);
  }

  /** One redrawn status line; only on a TTY and never in --json or quiet mode. */
  progressLine(line: string): void {
    if (this.quiet || this.json || !this.isTTY) return;
    const width = this.stream.columns ?? 120;
    this.stream.write('\r\x1b[2K' + line.slice(0, Math.max(20, width - 1)));
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\r\x1b[2K');
    this.progressShown = false;
  }
}

/** A logger that records lines instead of printing them (tests, library use). */
export class SilentLogger extends Logger {
  readonly lines: string[] = [];
  constructor() {
    super({ quiet: false, json: true });
  }
  override info(message: string): void {
    this.lines.push(message);
  }
  override warn(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
  override error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}
