import type { Db } from '../../kb/db.js';
import { nowIso } from '../../kb/db.js';
import { ensureDataset } from '../../kb/datasets.js';
import { insertSamples, type SampleInput } from '../../kb/samples.js';
import { recordRejection } from '../../kb/rejections.js';
import { finishRun, startRun } from '../../kb/runs.js';
import { hashJson } from '../../util/hash.js';
import { InputError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { Progress } from '../../util/progress.js';
import type { Importer, ImportSettings } from './types.js';

/**
 * The one import loop every format shares: streams each input's units, keeps a unit's samples and
 * rejections together, and commits them in batches. Each batch's transaction also moves the
 * input's progress mark (import_progress), so a killed import resumes exactly after the last
 * committed unit; source keys make any replay harmless anyway.
 */

export interface ImportSummary {
  dataset: string;
  format: string;
  /** What a unit is for this format: rows, records or files. */
  unit: string;
  path: string;
  runId: string;
  inputs: number;
  /** Inputs already imported completely with the same content and options: skipped unread. */
  unchangedInputs: number;
  /** Units of those skipped inputs. */
  unchangedUnits: number;
  /** Inputs whose import continued where an earlier run (killed, or stopped by --limit) left off. */
  resumedInputs: number;
  /** Units (rows, records or files) read in this run. */
  read: number;
  /** Sample rows those units produced. */
  samples: number;
  inserted: number;
  merged: number;
  conflicts: number;
  alreadyImported: number;
  rejected: number;
  /** False when --limit stopped the import before the end of its inputs. */
  complete: boolean;
  seconds: number;
}

export interface RunImportOptions {
  /** Warnings printed before the rest are only counted. */
  maxWarnings?: number;
}

interface ProgressRow {
  content_hash: string;
  units_done: number;
  completed: number;
}

const IMPORT_CHECKPOINT_PAGES = 16_384;

/** Seconds between progress lines written as log lines when stderr is not a terminal. */
const LOG_PROGRESS_EVERY_S = 5;

export async function runImport(
  db: Db,
  importer: Importer,
  settings: ImportSettings,
  logger: Logger,
  options: RunImportOptions = {},
): Promise<ImportSummary> {
  const started = Date.now();
  // Nothing is written before the inputs are known to exist.
  await importer.prepare?.(settings);
  const inputs = await importer.listInputs(settings);
  if (inputs.length === 0) throw new InputError(`${settings.path}: no input files for format ${importer.format}`);
  const dataset = ensureDataset(db, settings.dataset, importer.format, settings.path, {
    ...(settings.groupField ? { group_field: settings.groupField } : {}),
    ...(settings.map ? { map: settings.map } : {}),
  });
  markStaleRunsInterrupted(db, settings.dataset);
  const fingerprint = {
    format: importer.format,
    groupField: settings.groupField ?? null,
    map: settings.map ?? null,
    maxFileBytes: settings.maxFileBytes,
    maxFunctionLines: settings.maxFunctionLines,
  };
  const runId = startRun(db, 'ingest', { ...fingerprint, batchSize: settings.batchSize, limit: settings.limit ?? null }, {
    dataset: settings.dataset,
    path: settings.path,
  });
  const summary: ImportSummary = {
    dataset: settings.dataset,
    format: importer.format,
    unit: importer.unit,
    path: settings.path,
    runId,
    inputs: 0,
    unchangedInputs: 0,
    unchangedUnits: 0,
    resumedInputs: 0,
    read: 0,
    samples: 0,
    inserted: 0,
    merged: 0,
    conflicts: 0,
    alreadyImported: 0,
    rejected: 0,
    complete: true,
    seconds: 0,
  };
  const maxWarnings = options.maxWarnings ?? 20;
  let warnings = 0;
  const progress = new Progress(logger, `ingest ${settings.dataset}`, undefined, importer.unit);
  progress.setExtra(() => `${summary.inserted} new, ${summary.merged} merged, ${summary.rejected} rejected`);
  let lastLogged = 0;
  const inputHashes: Array<{ key: string; hash: string }> = [];

  const getProgress = db.prepare('SELECT content_hash, units_done, completed FROM import_progress WHERE dataset_id = ? AND path = ?');
  const putProgress = db.prepare(`
    INSERT INTO import_progress (dataset_id, path, content_hash, units_done, completed, updated_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (dataset_id, path) DO UPDATE SET content_hash = excluded.content_hash, units_done = excluded.units_done,
      completed = excluded.completed, updated_at = excluded.updated_at`);

  // Fewer, larger WAL checkpoints while importing: each one syncs the disk, and an import writes
  // hundreds of megabytes. Durability per commit is unchanged.
  const checkpointPages = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${Math.max(checkpointPages, IMPORT_CHECKPOINT_PAGES)}`);
  try {
    summary.inputs = inputs.length;
    const totalBytes = inputs.reduce((s, i) => s + i.size, 0) || 1;
    let bytesBefore = 0;
    // Units committed by earlier runs: part of the byte fraction, not of this run's count.
    let unitsBefore = 0;
    let limitReached = false;

    // One batch spans inputs (a source tree has many small files): it carries the samples, the
    // rejections and every touched input's progress mark, and commits them together.
    let pending: SampleInput[] = [];
    let pendingKeys = new Set<string>();
    let pendingRejections: Array<{ source: string; line: number | null; reason: string }> = [];
    const pendingProgress = new Map<string, { hash: string; unitsDone: number; completed: boolean }>();
    const flush = (): void => {
      const rows = pending;
      const rejections = pendingRejections;
      db.transaction(() => {
        const outcome = insertSamples(db, dataset.id, rows);
        summary.inserted += outcome.inserted;
        summary.merged += outcome.merged;
        summary.conflicts += outcome.conflicts;
        summary.alreadyImported += outcome.alreadyImported;
        for (const r of rejections) recordRejection(db, { stage: 'ingest', datasetId: dataset.id, ...r });
        const now = nowIso();
        for (const [key, p] of pendingProgress) putProgress.run(dataset.id, key, p.hash, p.unitsDone, p.completed ? 1 : 0, now);
      })();
      pending = [];
      pendingKeys = new Set();
      pendingRejections = [];
      pendingProgress.clear();
      const now = Date.now();
      if (!logger.isTTY && !logger.json && (lastLogged === 0 || now - lastLogged >= LOG_PROGRESS_EVERY_S * 1000)) {
        lastLogged = now;
        logger.info(`${progress.render(now)} (committed)`);
      }
    };

    for (const input of inputs) {
      if (limitReached) break;
      const opened = await importer.open(input, settings);
      const hash = hashJson({ content: opened.contentHash, options: fingerprint });
      inputHashes.push({ key: input.key, hash });
      const previous = getProgress.get(dataset.id, input.key) as ProgressRow | undefined;
      let skip = 0;
      if (previous && previous.content_hash === hash) {
        if (previous.completed) {
          summary.unchangedInputs++;
          summary.unchangedUnits += previous.units_done;
          unitsBefore += previous.units_done;
          bytesBefore += input.size;
          continue;
        }
        skip = previous.units_done;
        unitsBefore += skip;
        if (skip > 0) {
          summary.resumedInputs++;
          logger.info(`${input.display}: resuming after ${skip} ${importer.unit} committed by an earlier run`);
        }
      }

      let unitsDone = skip;
      for await (const unit of opened.units(skip)) {
        if (unit.counts !== false) {
          if (settings.limit !== undefined && summary.read >= settings.limit) {
            limitReached = true;
            break;
          }
          summary.read++;
          if (summary.read % 1000 === 0) {
            const fraction = (bytesBefore + opened.fraction() * input.size) / totalBytes;
            if (fraction > 0.005) progress.setTotal(Math.max(summary.read, Math.round((summary.read + unitsBefore) / fraction) - unitsBefore));
          }
          progress.tick();
        }
        unitsDone++;
        for (const sample of unit.samples) {
          // Two rows with one source key in a batch would break the batch: the later one is a
          // repeat, exactly as it would be if an earlier batch had committed the first.
          if (pendingKeys.has(sample.sourceKey)) {
            summary.alreadyImported++;
            continue;
          }
          pendingKeys.add(sample.sourceKey);
          pending.push(sample);
          summary.samples++;
        }
        for (const r of unit.rejections) {
          const line = r.line === undefined ? unit.line : r.line;
          pendingRejections.push({ source: input.key, line, reason: r.reason });
          summary.rejected++;
          warnings++;
          if (warnings <= maxWarnings) logger.warn(`${input.display}${line !== null ? `:${line}` : ''}: ${r.reason}`);
        }
        pendingProgress.set(input.key, { hash, unitsDone, completed: false });
        if (pending.length >= settings.batchSize || pendingRejections.length >= settings.batchSize) flush();
      }
      pendingProgress.set(input.key, { hash, unitsDone, completed: !limitReached });
      bytesBefore += input.size;
    }
    flush();
    if (limitReached) summary.complete = false;

    if (importer.finalize) db.transaction(() => importer.finalize!(db, dataset.id))();
    progress.finish();
    if (warnings > maxWarnings) {
      logger.warn(`${warnings - maxWarnings} more rejected inputs not shown (all are in the knowledge base's rejections table)`);
    }
    summary.seconds = round2((Date.now() - started) / 1000);
    finishRun(db, runId, 'done', { ...summary, inputHashes });
    return summary;
  } catch (err) {
    progress.finish();
    summary.seconds = round2((Date.now() - started) / 1000);
    finishRun(db, runId, 'failed', { ...summary, error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    db.pragma(`wal_autocheckpoint = ${checkpointPages}`);
  }
}

/** A run of this dataset's import still marked running was killed: say so in its record. */
function markStaleRunsInterrupted(db: Db, dataset: string): void {
  db.prepare(
    `UPDATE runs SET status = 'interrupted', finished_at = ? WHERE stage = 'ingest' AND status = 'running' AND json_extract(inputs, '$.dataset') = ?`,
  ).run(nowIso(), dataset);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The summary as the command prints it. */
export function renderSummary(s: ImportSummary): string {
  const lines = [
    `ingest ${s.dataset} (${s.format}) from ${s.path}: ${s.complete ? 'complete' : 'stopped at --limit (run again to continue)'}`,
    `  read              ${s.read} ${s.unit} from ${s.inputs} input${s.inputs === 1 ? '' : 's'}` +
      (s.resumedInputs ? ` (${s.resumedInputs} continued from an earlier run)` : ''),
    `  samples           ${s.samples}`,
    `  inserted          ${s.inserted}`,
    `  merged duplicates ${s.merged}`,
    `  label conflicts   ${s.conflicts}`,
    `  already imported  ${s.alreadyImported}` +
      (s.unchangedInputs ? ` (+ ${s.unchangedInputs} unchanged input${s.unchangedInputs === 1 ? '' : 's'} with ${s.unchangedUnits} ${s.unit} skipped)` : ''),
    `  rejected          ${s.rejected}`,
    `  seconds           ${s.seconds}`,
  ];
  return lines.join('\n');
}
