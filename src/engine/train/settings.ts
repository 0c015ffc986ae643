/**
 * What a training run is: the settings that decide its numbers (and therefore enter the
 * checkpoint's config hash), checked once, with the command-line flag each one comes from.
 */
import { UsageError } from '../../util/errors.js';
import { LORA_TARGETS, type LoraTarget } from '../model/lora.js';
import type { LongPolicy } from './data.js';
import { SCHEDULES, type ScheduleKind } from './schedule.js';

export interface TrainSettings {
  /** Train every base weight in f32 instead of a LoRA adapter. */
  full: boolean;
  rank: number;
  alpha: number;
  dropout: number;
  targets: LoraTarget[];
  rsLora: boolean;
  lr: number;
  weightDecay: number;
  /** Max global gradient norm (0: no clipping). */
  clip: number;
  warmup: number;
  schedule: ScheduleKind;
  /** Upper bound of B * T per micro-batch. */
  batchTokens: number;
  accum: number;
  seqLen: number;
  long: LongPolicy;
  epochs: number;
  /** Overrides epochs when set. */
  maxSteps: number | null;
  seed: number;
}

/** The flag each setting comes from (for messages). */
export const SETTING_FLAGS: Record<keyof TrainSettings, string> = {
  full: '--full', rank: '--rank', alpha: '--alpha', dropout: '--dropout', targets: '--targets', rsLora: '--rslora',
  lr: '--lr', weightDecay: '--weight-decay', clip: '--clip', warmup: '--warmup', schedule: '--schedule',
  batchTokens: '--batch-tokens', accum: '--accum', seqLen: '--seq-len', long: '--long', epochs: '--epochs',
  maxSteps: '--max-steps', seed: '--seed',
};

export function checkSettings(s: TrainSettings): void {
  const bad = (key: keyof TrainSettings, expected: string): never => {
    throw new UsageError(`train: ${SETTING_FLAGS[key]} ${expected}, got ${JSON.stringify(s[key])}`);
  };
  const posInt = (key: keyof TrainSettings, v: number): void => {
    if (!Number.isInteger(v) || v < 1) bad(key, 'expects a positive integer');
  };
  posInt('rank', s.rank);
  if (!(s.alpha > 0) || !Number.isFinite(s.alpha)) bad('alpha', 'expects a positive number');
  if (!(s.dropout >= 0 && s.dropout < 1)) bad('dropout', 'expects a number in [0, 1)');
  if (s.targets.length === 0 || s.targets.some((t) => !(LORA_TARGETS as readonly string[]).includes(t))) bad('targets', `expects some of ${LORA_TARGETS.join(',')}`);
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) bad('lr', 'expects a positive number');
  if (!(s.weightDecay >= 0) || !Number.isFinite(s.weightDecay)) bad('weightDecay', 'expects a number >= 0');
  if (!(s.clip >= 0) || !Number.isFinite(s.clip)) bad('clip', 'expects a number >= 0 (0 turns clipping off)');
  if (!Number.isInteger(s.warmup) || s.warmup < 0) bad('warmup', 'expects an integer >= 0');
  if (!(SCHEDULES as readonly string[]).includes(s.schedule)) bad('schedule', `expects one of ${SCHEDULES.join(', ')}`);
  posInt('batchTokens', s.batchTokens);
  posInt('accum', s.accum);
  if (!Number.isInteger(s.seqLen) || s.seqLen < 2) bad('seqLen', 'expects an integer >= 2');
  if (!(s.epochs > 0) || !Number.isFinite(s.epochs)) bad('epochs', 'expects a positive number');
  if (s.maxSteps !== null) posInt('maxSteps', s.maxSteps);
  if (!Number.isInteger(s.seed)) bad('seed', 'expects an integer');
}

/** Settings that differ between a checkpoint's config and this run's, as "--lr 0.001 (checkpoint: 0.0002)". */
export function settingDifferences(saved: Partial<Record<string, unknown>>, now: TrainSettings): string[] {
  const out: string[] = [];
  for (const key of Object.keys(SETTING_FLAGS) as Array<keyof TrainSettings>) {
    const a = JSON.stringify(saved[key] ?? null);
    const b = JSON.stringify(now[key] ?? null);
    if (a !== b) out.push(`${SETTING_FLAGS[key]} ${b} (checkpoint: ${a})`);
  }
  return out;
}
