/**
 * A workspace built by the real pipeline: `finesec synth` (paired vulnerable/fixed samples with
 * ground-truth reports), `finesec split` (group split), `finesec teach --teacher reference`
 * (accepted knowledge from the ground truth). Distill tests start from it.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { openKb, type Db } from '../../src/kb/db.js';
import { runCli, tempDir } from '../helpers/cli.js';

export interface DistillFixture {
  dir: string;
  workspace: string;
  kb: string;
  cleanup: () => void;
  cli: (...argv: string[]) => ReturnType<typeof runCli>;
}

export async function synthWorkspace(options: { count?: number; seed?: number; dataset?: string; config?: string } = {}): Promise<DistillFixture> {
  const { dir, cleanup } = tempDir('finesec-distill-');
  const workspace = join(dir, 'ws');
  const cli = (...argv: string[]) => runCli([...argv, '--workspace', workspace, '--quiet']);
  const dataset = options.dataset ?? 'syn';
  expect((await cli('init')).code).toBe(0);
  if (options.config !== undefined) writeFileSync(join(workspace, 'finesec.yaml'), options.config);
  expect((await cli('synth', '--count', String(options.count ?? 60), '--seed', String(options.seed ?? 5), '--name', dataset)).code).toBe(0);
  expect((await cli('split', dataset)).code).toBe(0);
  expect((await cli('teach', '--dataset', dataset, '--teacher', 'reference')).code).toBe(0);
  return { dir, workspace, kb: join(workspace, 'kb.sqlite'), cleanup, cli };
}

export function withDb<T>(kb: string, fn: (db: Db) => T): T {
  const db = openKb(kb);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export async function withDbAsync<T>(kb: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openKb(kb);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
