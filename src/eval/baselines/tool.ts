import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Language } from '../../kb/samples.js';

/** Running an external analyzer on one file: output, exit code and time. */
export interface ToolRun {
  stdout: string;
  stderr: string;
  code: number | null;
  timedOut: boolean;
  seconds: number;
}

export function runTool(command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<ToolRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, timedOut, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The tool's version line, or undefined when it is not installed (not on PATH or not runnable). */
export function toolVersion(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return undefined;
  const line = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '');
  return line?.trim();
}

/**
 * A temporary folder for the files a tool reads: each sample is written under a neutral name
 * (never the dataset's file name, which can give the label away) with the extension that makes
 * the tool parse it as C or C++.
 */
export class SampleFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'finesec-eval-tool-'));
  private counter = 0;

  write(code: string, language: Language): { path: string; name: string } {
    const name = `sample${++this.counter}.${language === 'cpp' ? 'cpp' : 'c'}`;
    const path = join(this.dir, name);
    writeFileSync(path, code);
    return { path, name };
  }

  remove(path: string): void {
    rmSync(path, { force: true });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
