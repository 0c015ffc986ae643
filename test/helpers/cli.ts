import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../../src/cli/main.js';

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface CliResult {
  code: number;
  stdout: string;
}

/** Runs a finesec command line in this process (fast); stderr goes to the test's stderr. */
export async function runCli(argv: string[]): Promise<CliResult> {
  let stdout = '';
  const code = await run(argv, (s) => {
    stdout += s;
  });
  return { code, stdout };
}

export interface SpawnedCli {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs finesec as a real child process from the TypeScript sources (through tsx), for tests that
 * need a separate process: exit codes, signals, kills mid-run.
 */
export function spawnCli(
  argv: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; killAfter?: (stderr: string, stdout: string) => boolean } = {},
): Promise<SpawnedCli> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/entry.ts'), ...argv], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const check = (): void => {
      if (!killed && options.killAfter?.(stderr, stdout)) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'finesec-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
