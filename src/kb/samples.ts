import type { Db } from './db.js';
import { nowIso } from './db.js';
import { codeHash } from '../corpus/normalize.js';

export type Label = 0 | 1 | null;
export type Language = 'c' | 'cpp';
export type SplitName = 'train' | 'valid' | 'test';

/** One input row, as an importer produces it. */
export interface SampleInput {
  /** Stable identity of the input row within the dataset (row idx, file#function, ...). Re-imports skip known keys. */
  sourceKey: string;
  code: string;
  language: Language;
  label: Label;
  cwes: string[];
  flawLines: number[];
  pairId?: string | null;
  groupId?: string | null;
  project?: string | null;
  commitId?: string | null;
  commitTime?: string | null;
  file?: string | null;
  functionName?: string | null;
  signature?: string | null;
  startLine?: number | null;
  endLine?: number | null;
  meta?: Record<string, unknown>;
}

export interface SampleRow {
  id: number;
  dataset_id: number;
  code: string;
  code_hash: string;
  language: Language;
  label: Label;
  label_conflict: number;
  cwes: string;
  flaw_lines: string;
  pair_id: string | null;
  group_id: string | null;
  project: string | null;
  commit_id: string | null;
  commit_time: string | null;
  file: string | null;
  function_name: string | null;
  signature: string | null;
  start_line: number | null;
  end_line: number | null;
  split: SplitName | null;
  near_dup_cluster: number | null;
  occurrences: number;
  meta: string;
  created_at: string;
}

/** A sample with its JSON columns decoded. */
export interface Sample extends Omit<SampleRow, 'cwes' | 'flaw_lines' | 'meta'> {
  cwes: string[];
  flaw_lines: number[];
  meta: Record<string, unknown>;
}

export function decodeSample(row: SampleRow): Sample {
  return {
    ...row,
    cwes: JSON.parse(row.cwes) as string[],
    flaw_lines: JSON.parse(row.flaw_lines) as number[],
    meta: JSON.parse(row.meta) as Record<string, unknown>,
  };
}

export interface InsertOutcome {
  /** New distinct samples. */
  inserted: number;
  /** Rows whose code matched an existing sample: merged into it and recorded as a source. */
  merged: number;
  /** Rows whose source key was already imported (a re-import): skipped. */
  alreadyImported: number;
  /** Merges that disagreed on the label: the sample's label becomes unknown and is flagged. */
  conflicts: number;
}

/**
 * Writes a batch of input rows in one transaction. Exact duplicates (same normalised code) merge into
 * one sample; every row is kept in sample_sources, so the count of rows read is always recoverable.
 */
export function insertSamples(db: Db, datasetId: number, rows: SampleInput[]): InsertOutcome {
  const outcome: InsertOutcome = { inserted: 0, merged: 0, alreadyImported: 0, conflicts: 0 };
  const known = db.prepare('SELECT 1 FROM sample_sources WHERE dataset_id = ? AND source_key = ?');
  const findSample = db.prepare('SELECT id, label, label_conflict, cwes, flaw_lines FROM samples WHERE dataset_id = ? AND code_hash = ?');
  const insertSample = db.prepare(`
    INSERT INTO samples (dataset_id, code, code_hash, language, label, cwes, flaw_lines, pair_id, group_id, project,
      commit_id, commit_time, file, function_name, signature, start_line, end_line, meta, created_at)
    VALUES (@dataset_id, @code, @code_hash, @language, @label, @cwes, @flaw_lines, @pair_id, @group_id, @project,
      @commit_id, @commit_time, @file, @function_name, @signature, @start_line, @end_line, @meta, @created_at)`);
  const updateMerged = db.prepare(
    'UPDATE samples SET occurrences = occurrences + 1, label = @label, label_conflict = @label_conflict, cwes = @cwes WHERE id = @id',
  );
  const insertSource = db.prepare(`
    INSERT INTO sample_sources (sample_id, dataset_id, source_key, label, cwes, pair_id, group_id, project, commit_id, file, function_name, meta)
    VALUES (@sample_id, @dataset_id, @source_key, @label, @cwes, @pair_id, @group_id, @project, @commit_id, @file, @function_name, @meta)`);
  const now = nowIso();

  db.transaction(() => {
    for (const r of rows) {
      if (known.get(datasetId, r.sourceKey)) {
        outcome.alreadyImported++;
        continue;
      }
      const hash = codeHash(r.code);
      const cwes = uniqueSorted(r.cwes);
      const existing = findSample.get(datasetId, hash) as
        | { id: number; label: Label; label_conflict: number; cwes: string; flaw_lines: string }
        | undefined;
      let sampleId: number;
      if (existing) {
        const conflict = existing.label_conflict === 1 || existing.label !== r.label;
        if (conflict && existing.label_conflict === 0) outcome.conflicts++;
        updateMerged.run({
          id: existing.id,
          label: conflict ? null : existing.label,
          label_conflict: conflict ? 1 : 0,
          cwes: JSON.stringify(uniqueSorted([...(JSON.parse(existing.cwes) as string[]), ...cwes])),
        });
        sampleId = existing.id;
        outcome.merged++;
      } else {
        const info = insertSample.run({
          dataset_id: datasetId,
          code: r.code,
          code_hash: hash,
          language: r.language,
          label: r.label,
          cwes: JSON.stringify(cwes),
          flaw_lines: JSON.stringify(r.flawLines),
          pair_id: r.pairId ?? null,
          group_id: r.groupId ?? null,
          project: r.project ?? null,
          commit_id: r.commitId ?? null,
          commit_time: r.commitTime ?? null,
          file: r.file ?? null,
          function_name: r.functionName ?? null,
          signature: r.signature ?? null,
          start_line: r.startLine ?? null,
          end_line: r.endLine ?? null,
          meta: JSON.stringify(r.meta ?? {}),
          created_at: now,
        });
        sampleId = Number(info.lastInsertRowid);
        outcome.inserted++;
      }
      insertSource.run({
        sample_id: sampleId,
        dataset_id: datasetId,
        source_key: r.sourceKey,
        label: r.label,
        cwes: JSON.stringify(cwes),
        pair_id: r.pairId ?? null,
        group_id: r.groupId ?? null,
        project: r.project ?? null,
        commit_id: r.commitId ?? null,
        file: r.file ?? null,
        function_name: r.functionName ?? null,
        meta: JSON.stringify(r.meta ?? {}),
      });
    }
  })();
  return outcome;
}

function uniqueSorted(values: string[]): string[] {
  return [...new Set(values)].sort();
}

export function countSamples(db: Db, datasetId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM samples WHERE dataset_id = ?').get(datasetId) as { n: number }).n;
}

export function countSources(db: Db, datasetId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM sample_sources WHERE dataset_id = ?').get(datasetId) as { n: number }).n;
}

export function getSample(db: Db, id: number): Sample | undefined {
  const row = db.prepare('SELECT * FROM samples WHERE id = ?').get(id) as SampleRow | undefined;
  return row ? decodeSample(row) : undefined;
}

/** Iterates samples of a dataset (optionally one split) in id order without loading them all. */
export function* iterateSamples(db: Db, datasetId: number, split?: SplitName): Generator<Sample> {
  const stmt = split
    ? db.prepare('SELECT * FROM samples WHERE dataset_id = ? AND split = ? ORDER BY id')
    : db.prepare('SELECT * FROM samples WHERE dataset_id = ? ORDER BY id');
  const rows = (split ? stmt.iterate(datasetId, split) : stmt.iterate(datasetId)) as IterableIterator<SampleRow>;
  for (const row of rows) yield decodeSample(row);
}
