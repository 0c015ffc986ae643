import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import type { Db } from '../kb/db.js';
import { finishRun, startRun, toolVersion } from '../kb/runs.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { computeMetrics, VDS_FPR_BUDGET } from './aggregate.js';
import type { Baseline } from './baselines/index.js';
import { processPeakRssMb } from './memory.js';
import type { ResolvedModelSpec } from './model-spec.js';
import { renderReportHtml } from './report-html.js';
import { compare, RESULTS_FORMAT, type EvalEntry, type EvalResults } from './results.js';
import { buildVariants, robustnessOf, runBaseline, runModel, type EntryRun, type Variant } from './runner.js';
import { storePredictions } from './store.js';
import { renderSummary } from './summary-md.js';
import { loadSuite, suitePairs } from './suite.js';

export interface EvalModel {
  name: string;
  /** As given on the command line (kept in results and the KB). */
  specText: string;
  spec: ResolvedModelSpec;
}

export interface EvalOptions {
  db: Db;
  suite: string;
  limit?: number;
  seed?: number;
  models: EvalModel[];
  baselines: Baseline[];
  robustness: boolean;
  maxTokens: number;
  contextSize?: number;
  threads: number;
  /** Name of the "before" model; default the first. */
  compare?: string;
  apiKey?: string;
  /** The run directory is created from the run id when outDir is not given. */
  runsDir: string;
  outDir?: string;
  llama?: Llama;
  logger: Logger;
}

export interface EvalOutcome {
  results: EvalResults;
  outDir: string;
}

export async function runEval(o: EvalOptions): Promise<EvalOutcome> {
  const suite = loadSuite(o.db, o.suite, { ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });
  const config = {
    suite: o.suite,
    limit: o.limit ?? null,
    seed: suite.seed,
    models: o.models.map((m) => ({ name: m.name, spec: m.specText })),
    baselines: o.baselines.map((b) => b.name),
    robustness: o.robustness,
    max_tokens: o.maxTokens,
    context: o.contextSize ?? null,
    threads: o.threads,
    compare: o.compare ?? null,
  };
  const runId = startRun(o.db, 'eval', config, { dataset: suite.dataset, split: suite.split, samples: suite.samples.map((s) => s.id) });
  const startedAt = new Date();
  const outDir = o.outDir ?? join(o.runsDir, runId);
  mkdirSync(outDir, { recursive: true });
  o.logger.info(
    `eval ${runId}: ${suite.samples.length} samples of ${o.suite}${suite.limit !== null ? ` (limit ${suite.limit} of ${suite.available})` : ''}, ` +
      `${o.models.length} model(s), ${o.baselines.length} baseline(s) -> ${outDir}`,
  );
  try {
    let variants: Variant[] = [];
    let rewriteCounts: Record<string, number> | null = null;
    if (o.robustness) {
      const built = await buildVariants(suite.samples);
      variants = built.variants;
      rewriteCounts = built.counts;
      o.logger.info(`robustness: ${variants.length} rewritten variants (${Object.entries(built.counts).map(([k, v]) => `${k} ${v}`).join(', ')})`);
    }

    const entries: EvalEntry[] = [];
    for (const m of o.models) {
      const run = await runModel(m.name, m.spec, suite.samples, variants, {
        maxTokens: o.maxTokens,
        threads: o.threads,
        logger: o.logger,
        ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
        ...(o.apiKey ? { apiKey: o.apiKey } : {}),
        ...(o.llama ? { llama: o.llama } : {}),
      });
      entries.push(entryFrom(m.name, 'model', m.specText, run, suite.samples, o.robustness, { version: null, mapping: null }));
    }
    for (const b of o.baselines) {
      const version = b.version();
      if (version === undefined) {
        const note = `${b.name.split(':')[0]} is not installed (not found on PATH)`;
        o.logger.warn(`baseline skipped: ${note}`);
        entries.push({ name: b.name, kind: 'baseline', spec: b.name, available: false, note, version: null, mapping: b.mapping, metrics: null, robustness: null, predictions: [] });
        continue;
      }
      const run = await runBaseline(b, suite.samples, variants, { jobs: o.threads, logger: o.logger });
      entries.push(entryFrom(b.name, 'baseline', b.name, run, suite.samples, o.robustness, { version, mapping: b.mapping }));
    }

    const models = entries.filter((e) => e.kind === 'model');
    const before = o.compare !== undefined ? models.find((e) => e.name === o.compare) : models[0];
    const comparisons = before ? models.filter((e) => e !== before).map((e) => compare(before, e)) : [];
    const vulnerable = suite.samples.filter((s) => s.label === 1).length;
    const finishedAt = new Date();
    const results: EvalResults = {
      format: RESULTS_FORMAT,
      run: {
        id: runId,
        started_at: startedAt.toISOString(),
        finished_at: finishedAt.toISOString(),
        seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
        tool_version: toolVersion(),
        peak_rss_mb: processPeakRssMb(),
      },
      suite: {
        spec: o.suite,
        dataset: suite.dataset,
        split: suite.split,
        samples: suite.samples.length,
        vulnerable,
        fixed: suite.samples.length - vulnerable,
        pairs: suitePairs(suite.samples).length,
        available: suite.available,
        unlabeled_skipped: suite.unlabeled,
        limit: suite.limit,
        seed: suite.seed,
      },
      config: {
        max_tokens: o.maxTokens,
        context: o.contextSize ?? null,
        threads: o.threads,
        temperature: 0,
        robustness: o.robustness,
        vds_fpr_budget: VDS_FPR_BUDGET,
      },
      before: before?.name ?? null,
      models: entries,
      comparisons,
      robustness: rewriteCounts ? { rewrites: rewriteCounts as Record<(typeof variants)[number]['rewrite'], number> } : null,
      samples: suite.samples.map((s) => ({ id: s.id, language: s.language, label: s.label, cwes: s.cwes, flaw_lines: s.flaw_lines, pair_id: s.pair_id, lines: s.lines, code: s.code })),
    };
    writeOutputs(outDir, results);
    storePredictions(o.db, runId, suite.datasetId, suite.samples, entries);
    finishRun(o.db, runId, 'done', {
      out: outDir,
      samples: suite.samples.length,
      models: Object.fromEntries(entries.map((e) => [e.name, e.metrics ? { f1: e.metrics.f1, 'P-C': e.metrics.paired['P-C'] } : null])),
    });
    return { results, outDir };
  } catch (err) {
    finishRun(o.db, runId, 'failed', { error: errorMessage(err) });
    throw err;
  }
}

function entryFrom(
  name: string,
  kind: 'model' | 'baseline',
  spec: string,
  run: EntryRun,
  samples: Parameters<typeof computeMetrics>[0],
  robustness: boolean,
  extra: { version: string | null; mapping: string | null },
): EvalEntry {
  const metrics = computeMetrics(samples, run.predictions, { quality: kind === 'model', cost: { load_seconds: run.loadSeconds, peak_rss_mb: run.peakRssMb } });
  const errors = run.predictions.filter((p) => p.status === 'error').length;
  return {
    name,
    kind,
    spec,
    available: true,
    note: errors > 0 ? `${errors} of ${run.predictions.length} samples failed (see predictions[].error)` : null,
    version: extra.version,
    mapping: extra.mapping,
    metrics,
    robustness: robustness ? robustnessOf(run) : null,
    predictions: run.predictions,
  };
}

/** results.json, summary.md and report.html in the run directory. */
export function writeOutputs(dir: string, results: EvalResults): void {
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), renderSummary(results));
  writeFileSync(join(dir, 'report.html'), renderReportHtml(results));
}
