import { z } from 'zod';

/**
 * finesec.yaml. Every object is strict: an unknown key is an error naming its path, so a typo never
 * silently falls back to a default. Later stages add their sections here.
 */
const threads = z.number().int().min(1).max(256);

export const corpusConfigSchema = z.strictObject({
  /** Files above this many bytes are skipped with a reason (source trees). */
  max_file_bytes: z.number().int().positive().default(1_000_000),
  /** Functions above this many lines are skipped with a reason. */
  max_function_lines: z.number().int().positive().default(2_000),
  /** Rows committed per transaction during import. */
  batch_size: z.number().int().positive().default(2_000),
  near_duplicates: z
    .strictObject({
      /** Jaccard similarity over token shingles at which two functions count as near-duplicates. */
      threshold: z.number().min(0).max(1).default(0.8),
      shingle: z.number().int().min(1).max(16).default(5),
      permutations: z.number().int().min(16).max(512).default(128),
      bands: z.number().int().min(1).max(128).default(16),
    })
    .prefault({}),
});

export const splitConfigSchema = z.strictObject({
  by: z.enum(['group', 'project', 'commit', 'time', 'random']).default('group'),
  ratios: z.tuple([z.number().min(0), z.number().min(0), z.number().min(0)]).default([0.8, 0.1, 0.1]),
  seed: z.number().int().default(1),
});

export const teacherConfigSchema = z.strictObject({
  /** provider:model[@base_url], e.g. reference, openai:gpt-4o-mini, openai:qwen@http://127.0.0.1:8080/v1 */
  spec: z.string().min(1).default('reference'),
  /** Name of the environment variable that holds the API key (the key itself is never stored). */
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  concurrency: z.number().int().min(1).max(256).default(4),
  requests_per_minute: z.number().positive().optional(),
  tokens_per_minute: z.number().positive().optional(),
  timeout_seconds: z.number().positive().default(120),
  max_retries: z.number().int().min(0).max(20).default(2),
  resamples: z.number().int().min(0).max(10).default(2),
  max_cost_usd: z.number().nonnegative().optional(),
  /** USD per million tokens, by model name. */
  prices: z.record(z.string(), z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() })).default({}),
});

export const loraConfigSchema = z.strictObject({
  rank: z.number().int().min(1).max(1024).default(16),
  alpha: z.number().positive().default(32),
  dropout: z.number().min(0).max(0.9).default(0.05),
  targets: z.array(z.enum(['q', 'k', 'v', 'o', 'gate', 'up', 'down'])).min(1).default(['q', 'k', 'v', 'o', 'gate', 'up', 'down']),
  rslora: z.boolean().default(false),
});

export const trainConfigSchema = z.strictObject({
  lr: z.number().positive().default(2e-4),
  epochs: z.number().positive().default(1),
  batch_tokens: z.number().int().positive().default(4096),
  accum: z.number().int().min(1).default(1),
  warmup: z.number().int().min(0).default(10),
  schedule: z.enum(['cosine', 'linear', 'constant']).default('cosine'),
  seq_len: z.number().int().min(16).default(1024),
  seed: z.number().int().default(1),
  lora: loraConfigSchema.prefault({}),
});

export const studentConfigSchema = z.strictObject({
  /** A GGUF base model path, or an OpenAI-compatible endpoint spec. */
  model: z.string().optional(),
  adapters: z.array(z.string()).default([]),
  context: z.number().int().min(128).default(4096),
  max_tokens: z.number().int().min(1).default(1024),
});

/** Continual learning (finesec learn): the update, the replay and the promotion gate. */
export const learnConfigSchema = z.strictObject({
  /** Share of each update batch drawn from earlier examples, stratified by CWE. */
  replay: z.number().min(0).max(0.95).default(0.3),
  /** The target metric must rise by at least this much for a candidate to be promoted. */
  margin: z.number().min(0).max(1).default(0.02),
  /** No regression suite may fall by more than this. */
  tolerance: z.number().min(0).max(1).default(0.01),
  metric: z.enum(['accuracy', 'precision', 'recall', 'f1', 'mcc', 'pc']).default('accuracy'),
  /** Optimizer steps of one update (warm-started from the current adapter). */
  max_steps: z.number().int().min(1).default(200),
  rounds: z.number().int().min(1).default(3),
  /** Tasks of the hard examples and of the replay (distill's task names). */
  tasks: z
    .array(z.enum(['detect', 'classify', 'localize', 'fragment', 'explain', 'reasoning', 'report']))
    .min(1)
    .default(['detect', 'classify', 'localize', 'fragment', 'explain', 'reasoning', 'report']),
  /** Share of hard cases held out of training and evaluated by the gate. */
  holdout: z.number().min(0).max(0.9).default(0.2),
  /** Learning rate of the update (default train.lr). */
  lr: z.number().positive().optional(),
  /** At most this many samples per gate suite (whole pairs, chosen by seed); default all. */
  suite_limit: z.number().int().min(1).optional(),
  seed: z.number().int().default(1),
});

export const configSchema = z.strictObject({
  version: z.literal(1).default(1),
  /** Threads for every CPU-bound stage (llama.cpp, the training engine). 1 is the safe default here. */
  threads: threads.default(1),
  corpus: corpusConfigSchema.prefault({}),
  split: splitConfigSchema.prefault({}),
  teacher: teacherConfigSchema.prefault({}),
  student: studentConfigSchema.prefault({}),
  train: trainConfigSchema.prefault({}),
  learn: learnConfigSchema.prefault({}),
});

export type FinesecConfig = z.infer<typeof configSchema>;
