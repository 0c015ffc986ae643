/**
 * The incremental update: training warm-starts from the current adapter (its A and B, rank, alpha
 * and targets) for a bounded number of steps, so at step 0 the model is exactly base + parent and
 * the candidate has the parent's shape: a round never grows the adapter.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainSettings } from '../engine/train/settings.js';
import { train, type TrainResult } from '../engine/train/trainer.js';
import type { Logger } from '../util/log.js';

export interface UpdateJob {
  base: string;
  parentAdapter: string;
  data: string;
  /** Folder for this update: adapter.gguf and its checkpoint. */
  dir: string;
  settings: TrainSettings;
  threads: number;
  metricsPath?: string;
  logger: Logger;
  onRejection?: (source: string, line: number, reason: string) => void;
}

export interface UpdateResult {
  /** The candidate adapter, over the original base. */
  adapter: string;
  rank: number;
  train: TrainResult;
}

export async function warmStartUpdate(job: UpdateJob): Promise<UpdateResult> {
  mkdirSync(job.dir, { recursive: true });
  const result = await train({
    base: job.base,
    data: job.data,
    out: job.dir,
    settings: job.settings,
    initAdapter: job.parentAdapter,
    evalEvery: 0,
    saveEvery: 0,
    resume: false,
    threads: job.threads,
    exportPeft: false,
    logger: job.logger,
    ...(job.metricsPath ? { metricsPath: job.metricsPath } : {}),
    ...(job.onRejection ? { onRejection: job.onRejection } : {}),
  });
  return { adapter: result.outputs.adapter!, rank: result.rank ?? job.settings.rank, train: result };
}
