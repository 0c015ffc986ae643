/**
 * One table of exit codes for every command (0 clean, 1 gate/findings, 2 usage or input error).
 * Every error the CLI reports is a FinesecError: it carries its exit code and renders as one line.
 */
export const ExitCode = {
  ok: 0,
  gateFailed: 1,
  error: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class FinesecError extends Error {
  readonly exitCode: ExitCode;
  readonly kind: string;
  constructor(message: string, options: { exitCode?: ExitCode; kind?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? ExitCode.error;
    this.kind = options.kind ?? 'error';
    this.name = 'FinesecError';
  }
  toJSON(): { error: { kind: string; message: string; exitCode: number } } {
    return { error: { kind: this.kind, message: this.message, exitCode: this.exitCode } };
  }
}

/** Bad flags, unknown command, missing argument. */
export class UsageError extends FinesecError {
  constructor(message: string) {
    super(message, { kind: 'usage' });
  }
}

/** Bad input data: a file, a line, a field. The message names where and what was expected. */
export class InputError extends FinesecError {
  constructor(message: string, cause?: unknown) {
    super(message, { kind: 'input', cause });
  }
}

/** A gate (scan findings, eval threshold, split leakage) failed: exit 1. */
export class GateFailure extends FinesecError {
  constructor(message: string) {
    super(message, { kind: 'gate', exitCode: ExitCode.gateFailed });
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
