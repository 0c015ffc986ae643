/**
 * Dataset statistics: what `finesec datasets` lists and `finesec dataset stats NAME` shows.
 * Counts come from SQL over the samples (distinct functions) and sample_sources (input rows).
 */
import type { Db } from '../kb/db.js';
import type { DatasetRow } from '../kb/datasets.js';
import type { SplitName } from '../kb/samples.js';
import { currentNearDuplicates, type NearDupSettings } from './dedup.js';

export interface LabelCounts {
  vulnerable: number;
  not_vulnerable: number;
  unknown: number;
}

export interface SplitTally {
  train: number;
  valid: number;
  test: number;
  unassigned: number;
}

export interface DatasetSummary {
  name: string;
  format: string;
  source: string | null;
  /** Distinct samples (exact duplicates merged). */
  samples: number;
  /** Input rows read into the dataset (sample_sources). */
  rows: number;
  labels: LabelCounts;
  splits: SplitTally;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface DatasetStats extends DatasetSummary {
  /** Input rows merged into an existing sample (rows - samples). */
  duplicatesMerged: number;
  /** Samples whose merged rows disagreed on the label (their label is unknown). */
  labelConflicts: number;
  languages: Record<string, number>;
  cwes: {
    /** Distinct CWEs. */
    distinct: number;
    /** Samples without any CWE. */
    withoutCwe: number;
    top: Array<{ cwe: string; samples: number }>;
  };
  /** Samples per split and label. */
  splitLabels: Record<SplitName, LabelCounts>;
  lines: Percentiles;
  chars: Percentiles;
  pairs: number;
  groups: number;
  projects: number;
  commits: number;
  rejections: number;
  /** Near-duplicate clusters as last computed (by split), or null when never computed. */
  nearDuplicates: { clusters: number; clusteredSamples: number; largestCluster: number; computedAt: string; upToDate: boolean } | null;
}

function labelCounts(rows: Array<{ label: 0 | 1 | null; n: number }>): LabelCounts {
  const out: LabelCounts = { vulnerable: 0, not_vulnerable: 0, unknown: 0 };
  for (const r of rows) out[r.label === 1 ? 'vulnerable' : r.label === 0 ? 'not_vulnerable' : 'unknown'] += r.n;
  return out;
}

function count(db: Db, sql: string, ...params: unknown[]): number {
  return (db.prepare(sql).get(...params) as { n: number }).n;
}

export function summarizeDataset(db: Db, dataset: DatasetRow): DatasetSummary {
  const labels = labelCounts(db.prepare('SELECT label, COUNT(*) AS n FROM samples WHERE dataset_id = ? GROUP BY label').all(dataset.id) as Array<{ label: 0 | 1 | null; n: number }>);
  const splits: SplitTally = { train: 0, valid: 0, test: 0, unassigned: 0 };
  for (const r of db.prepare('SELECT split, COUNT(*) AS n FROM samples WHERE dataset_id = ? GROUP BY split').all(dataset.id) as Array<{ split: SplitName | null; n: number }>) {
    splits[r.split ?? 'unassigned'] += r.n;
  }
  return {
    name: dataset.name,
    format: dataset.format,
    source: dataset.source,
    samples: labels.vulnerable + labels.not_vulnerable + labels.unknown,
    rows: count(db, 'SELECT COUNT(*) AS n FROM sample_sources WHERE dataset_id = ?', dataset.id),
    labels,
    splits,
  };
}

/** Nearest-rank percentile of ascending values (0 for none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

function percentiles(values: Float64Array): Percentiles {
  values.sort();
  let sum = 0;
  for (const v of values) sum += v;
  return {
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length ? values[values.length - 1]! : 0,
    mean: values.length ? Math.round((sum / values.length) * 10) / 10 : 0,
  };
}

/** Statistics of one dataset; with nearDup settings, says whether stored near-duplicate clusters are current. */
export function datasetStats(db: Db, dataset: DatasetRow, options: { topCwes?: number; nearDup?: NearDupSettings } = {}): DatasetStats {
  const id = dataset.id;
  const summary = summarizeDataset(db, dataset);
  const languages: Record<string, number> = {};
  for (const r of db.prepare('SELECT language, COUNT(*) AS n FROM samples WHERE dataset_id = ? GROUP BY language ORDER BY language').all(id) as Array<{ language: string; n: number }>) {
    languages[r.language] = r.n;
  }
  const cweRows = db
    .prepare(
      `SELECT j.value AS cwe, COUNT(*) AS n FROM samples s, json_each(s.cwes) j
       WHERE s.dataset_id = ? GROUP BY j.value ORDER BY n DESC, j.value`,
    )
    .all(id) as Array<{ cwe: string; n: number }>;
  const splitLabels = Object.fromEntries(
    (['train', 'valid', 'test'] as SplitName[]).map((split) => [
      split,
      labelCounts(db.prepare('SELECT label, COUNT(*) AS n FROM samples WHERE dataset_id = ? AND split = ? GROUP BY label').all(id, split) as Array<{ label: 0 | 1 | null; n: number }>),
    ]),
  ) as Record<SplitName, LabelCounts>;

  // Line counts ignore trailing newlines and spaces, so "a\n" is one line.
  const lengths = db
    .prepare(
      `SELECT length(t) AS chars, length(t) - length(replace(t, char(10), '')) + 1 AS lines
       FROM (SELECT rtrim(code, char(10) || char(13) || ' ' || char(9)) AS t FROM samples WHERE dataset_id = ?)`,
    )
    .raw()
    .all(id) as Array<[number, number]>;
  const chars = new Float64Array(lengths.length);
  const lines = new Float64Array(lengths.length);
  lengths.forEach(([c, l], i) => {
    chars[i] = c;
    lines[i] = c === 0 ? 0 : l;
  });

  const distinctOver = (column: string): number =>
    count(
      db,
      `SELECT COUNT(*) AS n FROM (SELECT ${column} FROM samples WHERE dataset_id = ? AND ${column} IS NOT NULL
       UNION SELECT ${column} FROM sample_sources WHERE dataset_id = ? AND ${column} IS NOT NULL)`,
      id,
      id,
    );
  const nearState = db.prepare('SELECT stats, computed_at FROM near_dup_state WHERE dataset_id = ?').get(id) as { stats: string; computed_at: string } | undefined;
  const near = nearState ? (JSON.parse(nearState.stats) as { clusters: number; clusteredSamples: number; largestCluster: number }) : undefined;

  return {
    ...summary,
    duplicatesMerged: summary.rows - summary.samples,
    labelConflicts: count(db, 'SELECT COUNT(*) AS n FROM samples WHERE dataset_id = ? AND label_conflict = 1', id),
    languages,
    cwes: {
      distinct: cweRows.length,
      withoutCwe: count(db, "SELECT COUNT(*) AS n FROM samples WHERE dataset_id = ? AND cwes = '[]'", id),
      top: cweRows.slice(0, options.topCwes ?? 10).map((r) => ({ cwe: r.cwe, samples: r.n })),
    },
    splitLabels,
    lines: percentiles(lines),
    chars: percentiles(chars),
    pairs: distinctOver('pair_id'),
    groups: distinctOver('group_id'),
    projects: distinctOver('project'),
    commits: distinctOver('commit_id'),
    rejections: count(db, 'SELECT COUNT(*) AS n FROM rejections WHERE dataset_id = ?', id),
    nearDuplicates: near
      ? {
          clusters: near.clusters,
          clusteredSamples: near.clusteredSamples,
          largestCluster: near.largestCluster, computedAt: nearState!.computed_at,
          upToDate: options.nearDup ? currentNearDuplicates(db, id, options.nearDup) !== undefined : false,
        }
      : null,
  };
}

function labels(l: LabelCounts): string {
  return `${l.vulnerable} vulnerable, ${l.not_vulnerable} not vulnerable${l.unknown ? `, ${l.unknown} unknown` : ''}`;
}

export function renderDatasetList(rows: DatasetSummary[]): string {
  if (rows.length === 0) return 'no datasets yet (see finesec ingest, finesec synth)';
  const table = [
    ['NAME', 'FORMAT', 'SAMPLES', 'ROWS', 'VULN', 'NOT VULN', 'UNKNOWN', 'SPLITS (train/valid/test)'],
    ...rows.map((r) => [
      r.name,
      r.format,
      String(r.samples),
      String(r.rows),
      String(r.labels.vulnerable),
      String(r.labels.not_vulnerable),
      String(r.labels.unknown),
      r.splits.train + r.splits.valid + r.splits.test === 0
        ? '-'
        : `${r.splits.train}/${r.splits.valid}/${r.splits.test}${r.splits.unassigned ? ` (+${r.splits.unassigned} unassigned)` : ''}`,
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function renderDatasetStats(s: DatasetStats): string {
  const p = (x: Percentiles): string => `p50 ${x.p50}, p90 ${x.p90}, p99 ${x.p99}, max ${x.max} (mean ${x.mean})`;
  const out = [
    `dataset ${s.name} (format ${s.format}${s.source ? `, from ${s.source}` : ''})`,
    `  samples         ${s.samples} distinct from ${s.rows} rows read (${s.duplicatesMerged} exact duplicates merged)`,
    `  labels          ${labels(s.labels)}; ${s.labelConflicts} label conflicts`,
    `  languages       ${Object.entries(s.languages).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    `  CWEs            ${s.cwes.distinct} distinct; ${s.cwes.withoutCwe} samples without a CWE`,
    ...s.cwes.top.map((c) => `    ${c.cwe.padEnd(12)} ${c.samples}`),
    `  splits          train ${s.splits.train}, valid ${s.splits.valid}, test ${s.splits.test}, unassigned ${s.splits.unassigned}`,
    ...(['train', 'valid', 'test'] as SplitName[]).filter((k) => s.splits[k] > 0).map((k) => `    ${k.padEnd(12)} ${labels(s.splitLabels[k])}`),
    `  lines           ${p(s.lines)}`,
    `  characters      ${p(s.chars)}`,
    `  relations       ${s.pairs} pairs, ${s.groups} groups, ${s.projects} projects, ${s.commits} commits`,
    `  near-duplicates ${s.nearDuplicates ? `${s.nearDuplicates.clusters} clusters, ${s.nearDuplicates.clusteredSamples} samples in them, largest ${s.nearDuplicates.largestCluster}${s.nearDuplicates.upToDate ? '' : ' (stale: the samples or settings changed since)'}` : 'not computed yet (finesec split computes them)'}`,
    `  rejections      ${s.rejections}`,
  ];
  return out.join('\n');
}
