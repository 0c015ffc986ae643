/**
 * `finesec distill`: accepted knowledge -> chat examples, in stages:
 * select (one accepted record per sample) -> decontaminate (against every evaluation split) ->
 * balance (cap per CWE, positive/negative ratio) -> build (one example per task that applies) ->
 * length filter (the base model's tokenizer) -> order (shuffle or curriculum) -> write (JSONL and
 * the KB's examples table). The run is recorded with its input hash: the same inputs and settings
 * again are a no-op that says so.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { dirname, resolve } from 'node:path';
import type { FinesecConfig } from '../config/schema.js';
import { nearDupSettings } from '../corpus/dedup.js';
import type { Db } from '../kb/db.js';
import { requireDataset } from '../kb/datasets.js';
import { countExamples, loadExamples, replaceExamples } from '../kb/examples.js';
import { recordRejection } from '../kb/rejections.js';
import { finishRun, startRun, toolVersion } from '../kb/runs.js';
import { canonicalJson, hashJson, sha256 } from '../util/hash.js';
import { UsageError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { Progress } from '../util/progress.js';
import { balance, type BalanceResult } from './balance.js';
import { decontaminate, evalSetSignature, loadEvalSet, type ContaminationMatch } from './decontaminate.js';
import { exampleJson, makeExample } from './example.js';
import { filterByLength, TokenCounter } from './length-filter.js';
import { orderExamples } from './order.js';
import { promptHash, promptVersion } from './prompts.js';
import { selectKnowledge, type SplitSelection } from './select.js';
import { exampleFigures, type ExampleFigures } from './stats.js';
import { taskBuilders } from './tasks/index.js';
import type { DistillTask, ExampleLine } from './types.js';

export interface DistillOptions {
  dataset: string;
  split: SplitSelection;
  out: string;
  tasks: DistillTask[];
  teacher?: string;
  /** Base model GGUF whose tokenizer the length filter uses. */
  base?: string;
  maxTokens?: number;
  capPerCwe?: number;
  posRatio?: number;
  curriculum: boolean;
  seed: number;
  /** Datasets whose every sample is evaluation data, besides every valid/test split. */
  evalDatasets: string[];
  /** Rebuild even when the same inputs were distilled already. */
  force: boolean;
}

export interface DistillDeps {
  db: Db;
  config: FinesecConfig;
  logger: Logger;
}

export interface DistillSummary {
  run: string;
  /** True when nothing was rebuilt: the same inputs and settings were distilled by `run`. */
  cached: boolean;
  /** Cached, but the output file was missing or changed, so it was written again from the KB. */
  restored: boolean;
  dataset: string;
  split: SplitSelection;
  out: string;
  tasks: DistillTask[];
  selection: { samplesWithKnowledge: number; records: number; alternatives: number; invalid: number };
  decontamination: {
    evalSamples: number;
    droppedSamples: number;
    exact: number;
    near: number;
    droppedExamples: number;
    /** Every dropped sample with the evaluation sample it matched (at most 200 listed). */
    matches: ContaminationMatch[];
  };
  balance: Omit<BalanceResult, 'kept'>;
  built: number;
  /** Report-task examples the student's schema cannot express. */
  studentFormDropped: number;
  length: null | { base: string; chatFormat: string; maxTokens: number; dropped: number; longest: number };
  written: number;
  figures: ExampleFigures;
  inputHash: string;
  outputHash: string;
  seconds: number;
}

const MAX_LISTED_MATCHES = 200;

export async function distill(options: DistillOptions, deps: DistillDeps): Promise<DistillSummary> {
  const { db, config, logger } = deps;
  const started = Date.now();
  if (options.tasks.length === 0) throw new UsageError('distill: --tasks names no task');
  if (options.maxTokens !== undefined && options.base === undefined) throw new UsageError('distill: --max-tokens needs --base (the tokenizer to count with)');
  if (options.posRatio !== undefined && !(options.posRatio > 0 && Number.isFinite(options.posRatio))) {
    throw new UsageError(`distill: --pos-ratio expects a positive number (positives per negative), got ${options.posRatio}`);
  }
  const dataset = requireDataset(db, options.dataset);
  const evalDatasetIds = options.evalDatasets.map((name) => {
    const d = requireDataset(db, name);
    if (d.id === dataset.id) throw new UsageError(`distill: --eval-dataset ${name} is the dataset being distilled`);
    return d.id;
  });
  const settings = nearDupSettings(config);
  const maxTokens = options.base !== undefined ? (options.maxTokens ?? config.train.seq_len) : undefined;

  const selection = selectKnowledge(db, dataset, { split: options.split, ...(options.teacher ? { teacher: options.teacher } : {}) });
  if (selection.items.length === 0) {
    const why = selection.samplesWithKnowledge === 0 ? 'no accepted knowledge (run finesec teach first)' : 'no usable accepted knowledge';
    throw new UsageError(`distill: dataset "${dataset.name}"${options.split !== 'all' ? ` split ${options.split}` : ''} has ${why}`);
  }
  const exclude = new Set<number>();
  if (options.split === 'valid' || options.split === 'test') {
    for (const r of db.prepare('SELECT id FROM samples WHERE dataset_id = ? AND split = ?').all(dataset.id, options.split) as Array<{ id: number }>) exclude.add(r.id);
  }
  const evalSet = loadEvalSet(db, { evalDatasets: evalDatasetIds, exclude });

  const tasks = [...new Set(options.tasks)];
  const inputHash = hashJson({
    tool: toolVersion(),
    dataset: dataset.name,
    split: options.split,
    tasks,
    prompts: tasks.map((t) => [t, promptVersion(t), promptHash(t)]),
    teacher: options.teacher ?? null,
    capPerCwe: options.capPerCwe ?? null,
    posRatio: options.posRatio ?? null,
    curriculum: options.curriculum,
    seed: options.seed,
    items: selection.items.map((i) => [i.knowledgeId, sha256(canonicalJson(i.report)), i.sample.code_hash, i.sample.split, i.sample.file, i.pair]),
    eval: evalSetSignature(evalSet, settings),
    base: options.base !== undefined ? fileIdentity(options.base) : null,
    maxTokens: maxTokens ?? null,
  });

  if (!options.force) {
    const cached = await fromCache(db, dataset.id, options, inputHash);
    if (cached) return { ...cached, seconds: (Date.now() - started) / 1000 };
  }

  const runId = startRun(
    db,
    'distill',
    {
      tasks,
      teacher: options.teacher ?? null,
      capPerCwe: options.capPerCwe ?? null,
      posRatio: options.posRatio ?? null,
      curriculum: options.curriculum,
      seed: options.seed,
      base: options.base ?? null,
      maxTokens: maxTokens ?? null,
      nearDuplicates: settings,
    },
    { dataset: dataset.name, split: options.split, evalDatasets: options.evalDatasets, out: resolve(options.out), inputHash },
  );
  let counter: TokenCounter | undefined;
  try {
    const contamination = decontaminate(selection.items, evalSet, settings);
    const balanced = balance(contamination.clean, {
      seed: options.seed,
      ...(options.capPerCwe !== undefined ? { capPerCwe: options.capPerCwe } : {}),
      ...(options.posRatio !== undefined ? { posRatio: options.posRatio } : {}),
    });
    for (const w of balanced.warnings) logger.warn(w);
    const droppedItems = new Set(contamination.dropped.map((d) => d.knowledge_id));
    const droppedExamples = selection.items
      .filter((i) => droppedItems.has(i.knowledgeId))
      .reduce((n, i) => n + tasks.filter((t) => taskBuilders[t].appliesTo(i)).length, 0);

    const building = new Progress(logger, 'distill', balanced.kept.length, 'samples');
    let examples: ExampleLine[] = [];
    let studentFormDropped = 0;
    for (const item of balanced.kept) {
      for (const task of tasks) {
        const builder = taskBuilders[task];
        if (!builder.appliesTo(item)) continue;
        const built = builder.build(item);
        if (!built.ok) {
          studentFormDropped++;
          recordRejection(db, { stage: 'distill', datasetId: dataset.id, source: `knowledge:${item.knowledgeId}`, line: null, reason: `${task}: ${built.reason}` });
          continue;
        }
        examples.push(makeExample(item, task, built.messages, runId));
      }
      building.tick();
    }
    building.finish();
    const built = examples.length;

    let length: DistillSummary['length'] = null;
    if (options.base !== undefined && maxTokens !== undefined) {
      counter = await TokenCounter.load(options.base);
      const counting = new Progress(logger, 'distill: counting tokens', examples.length, 'examples');
      const filtered = filterByLength(examples, counter, maxTokens, () => counting.tick());
      counting.finish();
      examples = filtered.kept;
      length = {
        base: resolve(options.base),
        chatFormat: counter.chatFormat,
        maxTokens,
        dropped: filtered.dropped.length,
        longest: Math.max(0, ...filtered.dropped.map((d) => d.tokens), ...examples.map((e) => e.tokens ?? 0)),
      };
    }

    examples = orderExamples(examples, { curriculum: options.curriculum, seed: options.seed });
    const outputHash = writeJsonl(options.out, examples);
    replaceExamples(db, dataset.id, options.split, examples);

    const { kept: _kept, ...balanceFigures } = balanced;
    const exact = contamination.dropped.filter((d) => d.kind === 'exact').length;
    const summary: DistillSummary = {
      run: runId,
      cached: false,
      restored: false,
      dataset: dataset.name,
      split: options.split,
      out: resolve(options.out),
      tasks,
      selection: {
        samplesWithKnowledge: selection.samplesWithKnowledge,
        records: selection.items.length,
        alternatives: selection.alternatives,
        invalid: selection.invalid,
      },
      decontamination: {
        evalSamples: contamination.evalSamples,
        droppedSamples: contamination.dropped.length,
        exact,
        near: contamination.dropped.length - exact,
        droppedExamples,
        matches: contamination.dropped.slice(0, MAX_LISTED_MATCHES),
      },
      balance: balanceFigures,
      built,
      studentFormDropped,
      length,
      written: examples.length,
      figures: exampleFigures(examples),
      inputHash,
      outputHash,
      seconds: (Date.now() - started) / 1000,
    };
    finishRun(db, runId, 'done', summary);
    return summary;
  } catch (err) {
    finishRun(db, runId, 'failed', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    await counter?.close();
  }
}

/** Path, size and modification time: enough to notice a different base without hashing gigabytes. */
function fileIdentity(path: string): { path: string; size: number; mtimeMs: number } {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`distill: --base ${path}: no such file`);
  return { path: resolve(path), size: st.size, mtimeMs: Math.round(st.mtimeMs) };
}

/**
 * The summary of the last run with the same input hash whose examples are still the KB's; the
 * output file is written again from the KB when it is missing or differs.
 */
async function fromCache(db: Db, datasetId: number, options: DistillOptions, inputHash: string): Promise<DistillSummary | undefined> {
  const row = db
    .prepare(
      `SELECT id, stats FROM runs WHERE stage = 'distill' AND status = 'done' AND json_extract(stats, '$.inputHash') = ?
       ORDER BY started_at DESC, rowid DESC LIMIT 1`,
    )
    .get(inputHash) as { id: string; stats: string } | undefined;
  if (!row) return undefined;
  const previous = JSON.parse(row.stats) as DistillSummary;
  if (countExamples(db, datasetId, options.split, row.id) !== previous.written || countExamples(db, datasetId, options.split) !== previous.written) return undefined;
  const out = resolve(options.out);
  let restored = false;
  if (!existsSync(out) || (await fileSha256(out)) !== previous.outputHash) {
    const outputHash = writeJsonl(out, loadExamples(db, datasetId, options.split));
    if (outputHash !== previous.outputHash) return undefined;
    restored = true;
  }
  return { ...previous, cached: true, restored, out };
}

/** Writes the examples as JSONL (to a temporary file, then renamed) and returns the file's sha256. */
function writeJsonl(path: string, examples: ExampleLine[]): string {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true });
  const hash = createHash('sha256');
  writeFileAtomic(target, (put) => {
    for (const e of examples) {
      const line = Buffer.from(exampleJson(e) + '\n', 'utf8');
      hash.update(line);
      put(line);
    }
  });
  return hash.digest('hex');
}

function fileSha256(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}
