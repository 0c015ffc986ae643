/**
 * Workspaces for the learn tests, built by the real stages: synthetic pairs (synth), a
 * leakage-free split into train and test (split), and optionally reference-teacher knowledge.
 */
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { openWorkspace, type Workspace } from '../../src/config/workspace.js';
import type { Sample } from '../../src/kb/samples.js';
import { decodeSample, type SampleRow } from '../../src/kb/samples.js';

export interface LearnFixture {
  dir: string;
  ws: string;
  cleanup: () => void;
  open(): Workspace;
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli([...args, '--quiet']);
  if (r.code !== 0) throw new Error(`finesec ${args.join(' ')} exited ${r.code}: ${r.stdout}`);
  return r.stdout;
}

/** A workspace with dataset `name` (synthetic pairs of these CWEs) split into train and test halves. */
export async function splitWorkspace(options: { name?: string; cwes?: string; count?: number; seed?: number; teach?: boolean } = {}): Promise<LearnFixture> {
  const { dir, cleanup } = tempDir('finesec-learn-');
  const ws = join(dir, 'ws');
  const name = options.name ?? 'syn';
  await cli(['synth', '--workspace', ws, '--name', name, '--cwe', options.cwes ?? 'CWE-134,CWE-369', '--count', String(options.count ?? 24), '--seed', String(options.seed ?? 4)]);
  await cli(['split', name, '--workspace', ws, '--ratios', '0.5,0,0.5']);
  if (options.teach) await cli(['teach', '--workspace', ws, '--dataset', name]);
  return { dir, ws, cleanup, open: () => openWorkspace(ws, { create: false }) };
}

export function samplesOf(w: Workspace, dataset: string, split?: 'train' | 'test'): Sample[] {
  const rows = w.db
    .prepare(
      `SELECT s.* FROM samples s JOIN datasets d ON d.id = s.dataset_id WHERE d.name = ?${split ? ' AND s.split = ?' : ''} ORDER BY s.id`,
    )
    .all(...(split ? [dataset, split] : [dataset])) as SampleRow[];
  return rows.map(decodeSample);
}
