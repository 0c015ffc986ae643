import { run } from '../cli/main.js';
import { FinesecError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface StepOutcome {
  name: string;
  status: 'done' | 'not built' | 'skipped' | 'failed';
  seconds: number;
  summary: string;
  result?: unknown;
}

/**
 * Runs one finesec command in this process exactly as a user would type it, with --json, and
 * returns its parsed result. The demo is a script over the public commands, nothing more.
 */
export async function runStep(logger: Logger, argv: string[], options: { allowExitCodes?: number[] } = {}): Promise<unknown> {
  let stdout = '';
  const code = await run([...argv, '--json'], (s) => {
    stdout += s;
  });
  let parsed: unknown;
  try {
    parsed = stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    parsed = undefined;
  }
  if (code !== 0 && !(options.allowExitCodes ?? []).includes(code)) {
    const message = (parsed as { error?: { message?: string } } | undefined)?.error?.message ?? `exit code ${code}`;
    throw new FinesecError(`demo: "finesec ${argv.join(' ')}" failed: ${message}`);
  }
  logger.info(`  $ finesec ${argv.join(' ')}`);
  return parsed;
}
