import type { Llama } from 'node-llama-cpp';
import { generateReport } from '../runtime/generate-report.js';
import { LocalStudent } from '../runtime/local-student.js';
import type { ChatBackend } from '../runtime/chat-types.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { Progress } from '../util/progress.js';
import type { Baseline, BaselineAnalysis } from './baselines/index.js';
import { SampleFiles } from './baselines/tool.js';
import { RssSampler } from './memory.js';
import { openModel, type ResolvedModelSpec } from './model-spec.js';
import { failedPrediction, predictionFromOutcome, type Prediction } from './prediction.js';
import { REWRITES, rewriteAll, type RewriteName } from './robustness/rewrites.js';
import type { RobustnessCounts, RobustnessResult } from './results.js';
import type { SuiteSample } from './suite.js';

/**
 * Runs every model and baseline over the same samples (and the same rewritten variants), one
 * after the other. A failure on one sample is recorded in its prediction and the run goes on.
 */
export interface Variant {
  sample: SuiteSample;
  rewrite: RewriteName;
  code: string;
}

export interface EntryRun {
  predictions: Prediction[];
  variants: Array<{ variant: Variant; prediction: Prediction }>;
  loadSeconds: number | null;
  peakRssMb: number | null;
}

export interface ModelRunOptions {
  maxTokens: number;
  contextSize?: number;
  threads: number;
  apiKey?: string;
  llama?: Llama;
  logger: Logger;
}

/** The rewritten variants of every sample whose text a rewrite changes. */
export async function buildVariants(samples: readonly SuiteSample[]): Promise<{ variants: Variant[]; counts: Record<RewriteName, number> }> {
  const variants: Variant[] = [];
  const counts = Object.fromEntries(REWRITES.map((r) => [r, 0])) as Record<RewriteName, number>;
  for (const sample of samples) {
    let rewritten: Record<RewriteName, string>;
    try {
      rewritten = await rewriteAll(sample.code, sample.language);
    } catch {
      continue; // tree-sitter could not handle this sample: no variants for it
    }
    for (const rewrite of REWRITES) {
      if (rewritten[rewrite] === sample.code) continue;
      variants.push({ sample, rewrite, code: rewritten[rewrite] });
      counts[rewrite]++;
    }
  }
  return { variants, counts };
}

export async function runModel(name: string, spec: ResolvedModelSpec, samples: readonly SuiteSample[], variants: readonly Variant[], options: ModelRunOptions): Promise<EntryRun> {
  const sampler = new RssSampler();
  const started = Date.now();
  let backend: ChatBackend;
  try {
    backend = await openModel(spec, {
      threads: options.threads,
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
      ...(options.llama ? { llama: options.llama } : {}),
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      id: name,
    });
  } catch (err) {
    sampler.stop();
    throw err;
  }
  const loadSeconds = (Date.now() - started) / 1000;
  options.logger.info(`${name}: loaded in ${loadSeconds.toFixed(1)}s`);
  // Local students keep the longest prefix that fits; an endpoint gets the whole code and may refuse it.
  const overflow = backend instanceof LocalStudent ? 'truncate' : 'error';
  const progress = new Progress(options.logger, `eval ${name}`, samples.length + variants.length, 'samples');
  const predict = async (sample: SuiteSample, code: string): Promise<Prediction> => {
    const t0 = Date.now();
    try {
      const outcome = await generateReport(backend, code, { language: sample.language, maxTokens: options.maxTokens, temperature: 0, overflow });
      return predictionFromOutcome(sample, outcome);
    } catch (err) {
      return failedPrediction(sample, errorMessage(err).split('\n')[0]!, (Date.now() - t0) / 1000);
    } finally {
      progress.tick();
    }
  };
  try {
    const predictions: Prediction[] = [];
    for (const s of samples) predictions.push(await predict(s, s.code));
    const varied: EntryRun['variants'] = [];
    for (const v of variants) varied.push({ variant: v, prediction: await predict(v.sample, v.code) });
    return { predictions, variants: varied, loadSeconds, peakRssMb: sampler.stop() };
  } finally {
    progress.finish();
    sampler.stop();
    await backend.close();
  }
}

export function predictionFromTool(sample: SuiteSample, a: BaselineAnalysis, seconds: number): Prediction {
  const predicted = a.vulnerable ? 1 : 0;
  return {
    sample_id: sample.id,
    verdict: a.vulnerable ? 'vulnerable' : 'not_vulnerable',
    verdict_source: 'tool',
    predicted,
    correct: predicted === sample.label,
    cwes: a.cwes,
    lines: a.lines,
    score: a.score,
    status: a.error ? 'error' : 'ok',
    schema_valid: false,
    grounded: false,
    completeness: null,
    error: a.error,
    prompt_tokens: 0,
    completion_tokens: 0,
    lines_shown: sample.lines,
    raw: a.raw,
    tool_findings: a.findings,
    seconds,
  };
}

/** Runs a baseline over the samples and variants, `jobs` tool processes at a time. */
export async function runBaseline(baseline: Baseline, samples: readonly SuiteSample[], variants: readonly Variant[], options: { jobs: number; logger: Logger }): Promise<EntryRun> {
  const files = new SampleFiles();
  const progress = new Progress(options.logger, `eval ${baseline.name}`, samples.length + variants.length, 'samples');
  const analyze = async (sample: SuiteSample, code: string): Promise<Prediction> => {
    const t0 = Date.now();
    const file = files.write(code, sample.language);
    try {
      const analysis = await baseline.analyze({ ...file, dir: files.dir }, sample.language);
      return predictionFromTool(sample, analysis, (Date.now() - t0) / 1000);
    } catch (err) {
      return { ...failedPrediction(sample, `${baseline.name}: ${errorMessage(err).split('\n')[0]}`, (Date.now() - t0) / 1000), verdict_source: 'tool' };
    } finally {
      files.remove(file.path);
      progress.tick();
    }
  };
  try {
    const predictions = await mapPool(samples, options.jobs, (s) => analyze(s, s.code));
    const variantPredictions = await mapPool(variants, options.jobs, (v) => analyze(v.sample, v.code));
    return {
      predictions,
      variants: variants.map((variant, i) => ({ variant, prediction: variantPredictions[i]! })),
      loadSeconds: null,
      peakRssMb: null,
    };
  } finally {
    progress.finish();
    files.close();
  }
}

/** Maps items through an async function, at most `concurrency` at a time, keeping the order. */
export async function mapPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}

/** Verdict flips between each sample's prediction and its rewritten variants' predictions. */
export function robustnessOf(run: EntryRun): RobustnessResult {
  const original = new Map(run.predictions.map((p) => [p.sample_id, p.predicted]));
  const counts = Object.fromEntries(REWRITES.map((r) => [r, { applicable: 0, flips: 0, flip_rate: null }])) as Record<RewriteName, RobustnessCounts>;
  const predictions: RobustnessResult['predictions'] = [];
  for (const { variant, prediction } of run.variants) {
    const flipped = prediction.predicted !== original.get(variant.sample.id);
    const c = counts[variant.rewrite];
    c.applicable++;
    if (flipped) c.flips++;
    predictions.push({ sample_id: variant.sample.id, rewrite: variant.rewrite, verdict: prediction.verdict, predicted: prediction.predicted, flipped, status: prediction.status });
  }
  let applicable = 0;
  let flips = 0;
  for (const c of Object.values(counts)) {
    c.flip_rate = c.applicable > 0 ? c.flips / c.applicable : null;
    applicable += c.applicable;
    flips += c.flips;
  }
  return { rewrites: counts, overall: { applicable, flips, flip_rate: applicable > 0 ? flips / applicable : null }, predictions };
}
