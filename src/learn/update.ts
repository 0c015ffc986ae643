/**
 * The incremental update: training warm-starts from the current adapter for a bounded number of
 * steps. The trainer starts every LoRA from scratch (A random, B zero) and has no option to load
 * one, so the warm start goes through what it has: the parent adapter is merged into a copy of
 * the base (in the base's own weight type), a new low-rank delta is trained on top of that for
 * `maxSteps` steps (at step 0 the model is exactly base + parent), and parent and delta are
 * stacked into one adapter of rank r_parent + r_delta over the original base (stack.ts), which is
 * the candidate. The merged copy is deleted afterwards; the delta and its checkpoint are kept.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mergeAdapter, type MergeType } from '../engine/adapter/merge.js';
import { readAdapterGguf, writeAdapterGguf } from '../engine/adapter/lora-file.js';
import { gv } from '../engine/gguf/metadata.js';
import { readGguf } from '../engine/gguf/reader.js';
import { GgmlType } from '../engine/gguf/types.js';
import type { TrainSettings } from '../engine/train/settings.js';
import { train, type TrainResult } from '../engine/train/trainer.js';
import type { Logger } from '../util/log.js';
import { stackAdapters } from './stack.js';

export interface UpdateJob {
  base: string;
  parentAdapter: string;
  data: string;
  /** Folder for this update: warm-base.gguf (temporary), delta/ (the trained delta), adapter.gguf. */
  dir: string;
  settings: TrainSettings;
  threads: number;
  metricsPath?: string;
  logger: Logger;
  onRejection?: (source: string, line: number, reason: string) => void;
}

export interface UpdateResult {
  /** The candidate: parent and delta stacked, over the original base. */
  adapter: string;
  delta: string;
  rank: number;
  train: TrainResult;
}

/** The merged copy keeps the base's precision: Q8_0 stays Q8_0, F16/BF16 become F16, F32 stays F32. */
export function mergeTypeFor(basePath: string): MergeType {
  const base = readGguf(basePath);
  const weight = base.tensors.find((t) => /^blk\.\d+\.attn_q\.weight$/.test(t.name));
  if (!weight || weight.type === GgmlType.Q8_0) return 'q8_0';
  if (weight.type === GgmlType.F32) return 'f32';
  return 'f16';
}

export async function warmStartUpdate(job: UpdateJob): Promise<UpdateResult> {
  const warmBase = join(job.dir, 'warm-base.gguf');
  const deltaDir = join(job.dir, 'delta');
  mkdirSync(job.dir, { recursive: true });
  try {
    job.logger.info(`update: merging the parent adapter into a copy of the base (warm start)`);
    mergeAdapter(job.base, job.parentAdapter, warmBase, { type: mergeTypeFor(job.base), threads: job.threads });
    const result = await train({
      base: warmBase,
      data: job.data,
      out: deltaDir,
      settings: job.settings,
      evalEvery: 0,
      saveEvery: 0,
      resume: false,
      threads: job.threads,
      exportPeft: false,
      logger: job.logger,
      ...(job.metricsPath ? { metricsPath: job.metricsPath } : {}),
      ...(job.onRejection ? { onRejection: job.onRejection } : {}),
    });
    const delta = result.outputs.adapter!;
    const stacked = stackAdapters(readAdapterGguf(job.parentAdapter), readAdapterGguf(delta), delta);
    const adapter = join(job.dir, 'adapter.gguf');
    writeAdapterGguf(adapter, stacked, new Map([['finesec.learn.warm_start', gv.str('stacked')]]));
    return { adapter, delta, rank: stacked.pairs[0]!.rank, train: result };
  } finally {
    rmSync(warmBase, { force: true });
  }
}
