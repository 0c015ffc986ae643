import type { FinesecConfig } from '../config/schema.js';
import type { Db } from '../kb/db.js';
import { requireDataset } from '../kb/datasets.js';
import { saveKnowledge, samplesWithKnowledge } from '../kb/knowledge.js';
import { recordRejection } from '../kb/rejections.js';
import { finishRun, startRun } from '../kb/runs.js';
import { getSample, type SplitName } from '../kb/samples.js';
import { UsageError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { Progress, formatDuration, formatRate } from '../util/progress.js';
import { CachedProvider, cacheKey } from './cache.js';
import { realClock, type Clock } from './clock.js';
import { PriceTable, formatUsd } from './cost.js';
import { generateKnowledge, jury, temperatureFor, type Generation, type TeacherPanel } from './generate.js';
import { runPool } from './limits.js';
import { Budget, MeteredProvider, estimatePromptTokens, expectedCompletionTokens } from './metered.js';
import { renderPrompt, templateFor } from './prompts/index.js';
import type { TeacherProvider } from './provider.js';
import { createProvider } from './providers/index.js';
import { getCachedResponse } from '../kb/teacher-cache.js';

export interface TeachOptions {
  dataset: string;
  split?: SplitName;
  limit?: number;
  /** One spec, or several for a jury. Defaults to teacher.spec from the config. */
  teachers: string[];
  hinted: boolean;
  refresh: boolean;
  concurrency: number;
  maxCostUsd?: number;
  dryRun: boolean;
  resamples: number;
  maxTokens: number;
  /** Without a TTY, log a progress line this often (seconds). */
  logEverySeconds: number;
}

export interface TeachDeps {
  db: Db;
  config: FinesecConfig;
  logger: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

export interface DryRunEstimate {
  dryRun: true;
  dataset: string;
  teacher: string;
  promptVersion: string;
  selected: number;
  alreadyDone: number;
  todo: number;
  cachedFirstAttempts: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** If every attempt were rejected and repaired: (1 + resamples) x 2 calls per sample. */
  worstCaseCostUsd: number;
  priced: boolean;
}

export interface TeachSummary {
  dryRun: false;
  run: string;
  dataset: string;
  teacher: string;
  promptVersion: string;
  hinted: boolean;
  selected: number;
  alreadyDone: number;
  todo: number;
  accepted: number;
  rejected: number;
  refused: number;
  errors: number;
  left: number;
  calls: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  seconds: number;
  stopped: null | { reason: 'max_cost' | 'fatal'; message: string };
  rejectionReasons: Record<string, number>;
  errorMessages: Record<string, number>;
}

/** `finesec teach`: asks the teacher about every selected sample that has no record yet. */
export async function teach(options: TeachOptions, deps: TeachDeps): Promise<TeachSummary | DryRunEstimate> {
  const { db, config, logger } = deps;
  const clock = deps.clock ?? realClock;
  const dataset = requireDataset(db, options.dataset);
  const specs = options.teachers.length ? options.teachers : [config.teacher.spec];
  const prices = new PriceTable(config.teacher.prices);
  let retries = 0;
  const providers = specs.map((spec) =>
    createProvider(spec, config.teacher, {
      clock,
      ...(deps.env ? { env: deps.env } : {}),
      requireKey: !options.dryRun,
      onRetry: (message) => {
        retries++;
        logger.info(`retry: ${message}`);
      },
    }),
  );
  try {
    if (options.maxCostUsd !== undefined) {
      const unpriced = providers.filter((p) => p.isLlm && !prices.priceOf(p.kind, p.model));
      if (unpriced.length) {
        throw new UsageError(`--max-cost needs a price for ${unpriced.map((p) => p.model).join(', ')} in teacher.prices (USD per million input/output tokens)`);
      }
    }
    const panel = jury(providers);
    const template = templateFor(options.hinted);
    const selected = selectSampleIds(db, dataset.id, options.split, options.limit);
    const done = options.refresh ? new Set<number>() : samplesWithKnowledge(db, dataset.id, panel.id, template.version);
    const todo = selected.filter((id) => !done.has(id));
    const alreadyDone = selected.length - todo.length;
    if (options.dryRun) return estimate(db, panel, prices, todo, { ...options, datasetName: dataset.name, selected: selected.length, alreadyDone });
    return await runTeach(db, config, logger, clock, panel, prices, todo, { ...options, datasetId: dataset.id, datasetName: dataset.name, selected: selected.length, alreadyDone, retries: () => retries });
  } finally {
    for (const p of providers) p.close?.();
  }
}

function selectSampleIds(db: Db, datasetId: number, split: SplitName | undefined, limit: number | undefined): number[] {
  const sql = `SELECT id FROM samples WHERE dataset_id = ?${split ? ' AND split = ?' : ''} ORDER BY id${limit !== undefined ? ' LIMIT ?' : ''}`;
  const args: unknown[] = [datasetId];
  if (split) args.push(split);
  if (limit !== undefined) args.push(limit);
  return (db.prepare(sql).all(...args) as Array<{ id: number }>).map((r) => r.id);
}

function estimate(
  db: Db,
  panel: TeacherPanel,
  prices: PriceTable,
  todo: number[],
  o: TeachOptions & { datasetName: string; selected: number; alreadyDone: number },
): DryRunEstimate {
  const template = templateFor(o.hinted);
  let promptTokens = 0;
  let completionTokens = 0;
  let costUsd = 0;
  let cachedFirstAttempts = 0;
  const completion = expectedCompletionTokens(o.maxTokens);
  for (const id of todo) {
    const sample = getSample(db, id);
    if (!sample) continue;
    const prompt = renderPrompt(template, sample);
    const callOptions = { temperature: temperatureFor(0), maxTokens: o.maxTokens };
    const cached = !o.refresh && panel.members.every((m) => getCachedResponse(db, cacheKey(m, prompt, { sample }, callOptions)) !== undefined);
    if (cached) {
      cachedFirstAttempts++;
      continue;
    }
    for (const m of panel.members) {
      if (!m.isLlm) continue;
      const p = estimatePromptTokens(prompt);
      promptTokens += p;
      completionTokens += completion;
      costUsd += prices.cost(m.kind, m.model, { prompt: p, completion });
    }
  }
  const attemptsWorstCase = panel.isLlm ? (1 + o.resamples) * 2 : 1;
  return {
    dryRun: true,
    dataset: o.datasetName,
    teacher: panel.id,
    promptVersion: template.version,
    selected: o.selected,
    alreadyDone: o.alreadyDone,
    todo: todo.length,
    cachedFirstAttempts,
    promptTokens,
    completionTokens,
    costUsd,
    worstCaseCostUsd: costUsd * attemptsWorstCase,
    priced: panel.members.every((m) => !m.isLlm || prices.priceOf(m.kind, m.model) !== undefined),
  };
}

async function runTeach(
  db: Db,
  config: FinesecConfig,
  logger: Logger,
  clock: Clock,
  panel: TeacherPanel,
  prices: PriceTable,
  todo: number[],
  o: TeachOptions & { datasetId: number; datasetName: string; selected: number; alreadyDone: number; retries: () => number },
): Promise<TeachSummary> {
  const budget = new Budget(o.maxCostUsd);
  const wrapped: TeacherProvider[] = panel.members.map(
    (m) =>
      new CachedProvider(
        new MeteredProvider(m, {
          clock,
          prices,
          budget,
          ...(config.teacher.requests_per_minute ? { requestsPerMinute: config.teacher.requests_per_minute } : {}),
          ...(config.teacher.tokens_per_minute ? { tokensPerMinute: config.teacher.tokens_per_minute } : {}),
        }),
        db,
        { refresh: o.refresh },
      ),
  );
  const runPanel: TeacherPanel = { ...panel, members: wrapped };
  const promptVersion = templateFor(o.hinted).version;
  const runId = startRun(
    db,
    'teach',
    {
      teacher: panel.id,
      promptVersion,
      hinted: o.hinted,
      resamples: o.resamples,
      maxTokens: o.maxTokens,
      concurrency: o.concurrency,
      requestsPerMinute: config.teacher.requests_per_minute ?? null,
      tokensPerMinute: config.teacher.tokens_per_minute ?? null,
      timeoutSeconds: config.teacher.timeout_seconds,
      maxRetries: config.teacher.max_retries,
      maxCostUsd: o.maxCostUsd ?? null,
      refresh: o.refresh,
    },
    { dataset: o.datasetName, split: o.split ?? null, limit: o.limit ?? null, todo: todo.length },
  );
  const summary: TeachSummary = {
    dryRun: false,
    run: runId,
    dataset: o.datasetName,
    teacher: panel.id,
    promptVersion,
    hinted: o.hinted,
    selected: o.selected,
    alreadyDone: o.alreadyDone,
    todo: todo.length,
    accepted: 0,
    rejected: 0,
    refused: 0,
    errors: 0,
    left: todo.length,
    calls: 0,
    cacheHits: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    seconds: 0,
    stopped: null,
    rejectionReasons: {},
    errorMessages: {},
  };
  const progress = new Progress(logger, 'teach', todo.length, 'samples');
  progress.setExtra(() => `accepted ${summary.accepted}, rejected ${summary.rejected}, errors ${summary.errors} | ${formatUsd(summary.costUsd)} | cache ${summary.cacheHits}`);
  const started = Date.now();
  // Without a TTY the progress line is logged on a timer, so a stalled server still shows up in logs.
  const ticker =
    !logger.isTTY && o.logEverySeconds > 0
      ? setInterval(() => logger.info(progressText(summary, todo.length, (Date.now() - started) / 1000)), o.logEverySeconds * 1000)
      : undefined;
  ticker?.unref();

  const handle = (sampleId: number, g: Generation): void => {
    const s = g.spend;
    summary.calls += s.calls;
    summary.cacheHits += s.cacheHits;
    summary.promptTokens += s.promptTokens;
    summary.completionTokens += s.completionTokens;
    summary.costUsd += s.costUsd;
    if (g.kind === 'failed') {
      if (g.failure.kind === 'refused') {
        summary.refused++;
        summary.left--;
        recordRejection(db, { stage: 'teach', datasetId: o.datasetId, source: `sample:${sampleId}`, line: null, reason: g.failure.message });
        return;
      }
      if (g.failure.kind === 'budget') {
        summary.stopped ??= { reason: 'max_cost', message: g.failure.message };
        return;
      }
      summary.errors++;
      summary.errorMessages[g.failure.message] = (summary.errorMessages[g.failure.message] ?? 0) + 1;
      if (summary.errors <= 5) logger.warn(`sample ${sampleId}: ${g.failure.message}`);
      if (g.failure.fatal) summary.stopped ??= { reason: 'fatal', message: g.failure.message };
      return;
    }
    saveKnowledge(
      db,
      {
        sampleId,
        datasetId: o.datasetId,
        teacher: panel.id,
        teacherProvider: panel.provider,
        teacherModel: panel.model,
        promptVersion: g.promptVersion,
        promptHash: g.promptHash,
        hinted: o.hinted,
        isLlm: panel.isLlm,
        status: g.status,
        verified: g.verified,
        reasons: g.reasons,
        report: g.report,
        rawOutput: g.raw,
        promptTokens: s.promptTokens,
        completionTokens: s.completionTokens,
        costUsd: s.costUsd,
        attempt: g.attempt,
        attempts: g.attempts,
        ...(g.votes ? { meta: { votes: g.votes } } : {}),
        runId,
      },
      o.refresh,
    );
    summary.left--;
    if (g.status === 'accepted') summary.accepted++;
    else {
      summary.rejected++;
      for (const r of g.reasons) summary.rejectionReasons[r.code] = (summary.rejectionReasons[r.code] ?? 0) + 1;
    }
  };

  let status: 'done' | 'failed' | 'interrupted' = 'done';
  try {
    await runPool(
      todo,
      o.concurrency,
      async (sampleId) => {
        const sample = getSample(db, sampleId);
        if (!sample) return;
        const g = await generateKnowledge(runPanel, sample, { hinted: o.hinted, resamples: o.resamples, maxTokens: o.maxTokens });
        handle(sampleId, g);
        progress.tick();
      },
      () => summary.stopped !== null,
    );
    if (summary.stopped) status = 'interrupted';
  } catch (err) {
    status = 'failed';
    throw err;
  } finally {
    if (ticker) clearInterval(ticker);
    progress.finish();
    summary.seconds = (Date.now() - started) / 1000;
    finishRun(db, runId, status, { ...summary, retries: o.retries() });
  }
  return summary;
}

function progressText(s: TeachSummary, total: number, seconds: number): string {
  const finished = s.accepted + s.rejected + s.refused + s.errors;
  const rate = seconds > 0 ? finished / seconds : 0;
  const eta = rate > 0 ? formatDuration((total - finished) / rate) : '?';
  return `teach: ${finished}/${total} samples | ${formatRate(rate)}/s | ETA ${eta} | accepted ${s.accepted}, rejected ${s.rejected}, errors ${s.errors} | spend ${formatUsd(s.costUsd)} | cache hits ${s.cacheHits}`;
}
