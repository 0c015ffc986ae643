import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError, errorMessage } from '../util/errors.js';
import type { EntryMetrics } from './aggregate.js';
import type { Prediction } from './prediction.js';
import type { RewriteName } from './robustness/rewrites.js';
import type { Language } from '../kb/samples.js';

/**
 * results.json: everything an eval run measured, readable by other tools. Timings (run.*,
 * metrics.cost, predictions[].seconds) differ between runs; every other field is a function of
 * the suite, the models and the options, so two runs of the same command give the same file
 * apart from those.
 */
export const RESULTS_FORMAT = 'finesec-eval/1';

export interface RobustnessCounts {
  applicable: number;
  flips: number;
  flip_rate: number | null;
}

export interface RobustnessResult {
  rewrites: Record<RewriteName, RobustnessCounts>;
  overall: RobustnessCounts;
  predictions: Array<{ sample_id: number; rewrite: RewriteName; verdict: string | null; predicted: 0 | 1; flipped: boolean; status: string }>;
}

export interface EvalEntry {
  name: string;
  kind: 'model' | 'baseline';
  /** The --model SPEC, or the baseline's name. */
  spec: string;
  available: boolean;
  /** Why a baseline was skipped, or other remarks. */
  note: string | null;
  /** Baselines: the tool's version line. */
  version: string | null;
  /** Baselines: how the tool's output maps to a verdict, CWEs and a score. */
  mapping: string | null;
  metrics: EntryMetrics | null;
  robustness: RobustnessResult | null;
  predictions: Prediction[];
}

export interface ResultSample {
  id: number;
  language: Language;
  label: 0 | 1;
  cwes: string[];
  flaw_lines: number[];
  pair_id: string | null;
  lines: number;
  code: string;
}

export interface Comparison {
  before: string;
  after: string;
  /** after - before, for every headline metric both have. */
  deltas: Record<string, number | null>;
}

export interface EvalResults {
  format: typeof RESULTS_FORMAT;
  run: { id: string; started_at: string; finished_at: string; seconds: number; tool_version: string; peak_rss_mb: number };
  suite: {
    spec: string;
    dataset: string;
    split: string | null;
    samples: number;
    vulnerable: number;
    fixed: number;
    pairs: number;
    /** Labeled samples in the dataset (split) before --limit. */
    available: number;
    /** Samples without a label (conflicting duplicates), left out. */
    unlabeled_skipped: number;
    limit: number | null;
    seed: number;
  };
  config: {
    max_tokens: number;
    context: number | null;
    threads: number;
    temperature: number;
    robustness: boolean;
    vds_fpr_budget: number;
  };
  /** The model the others are compared against (the first, or --compare). */
  before: string | null;
  models: EvalEntry[];
  comparisons: Comparison[];
  robustness: { rewrites: Record<RewriteName, number> } | null;
  samples: ResultSample[];
}

/** The headline metrics compared before -> after, in table order. */
export const HEADLINE_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'mcc',
  'fpr',
  'P-C',
  'P-V',
  'P-B',
  'P-R',
  'vds',
  'cwe_exact',
  'cwe_hierarchical',
  'loc_precision',
  'loc_recall',
  'schema_valid',
  'grounded',
  'completeness',
  'flip_rate',
] as const;
export type HeadlineMetric = (typeof HEADLINE_METRICS)[number];

/** Lower is better for these (deltas are read the other way round). */
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set(['fpr', 'P-V', 'P-B', 'P-R', 'vds', 'flip_rate']);

export function headline(entry: EvalEntry, metric: HeadlineMetric): number | null {
  const m = entry.metrics;
  if (!m) return null;
  switch (metric) {
    case 'P-C':
    case 'P-V':
    case 'P-B':
    case 'P-R':
      return m.paired[metric];
    case 'cwe_exact':
      return m.cwe.exact;
    case 'cwe_hierarchical':
      return m.cwe.hierarchical;
    case 'loc_precision':
      return m.localization.precision;
    case 'loc_recall':
      return m.localization.recall;
    case 'schema_valid':
      return m.quality?.schema_valid ?? null;
    case 'grounded':
      return m.quality?.grounded ?? null;
    case 'completeness':
      return m.quality?.completeness.overall ?? null;
    case 'flip_rate':
      return entry.robustness?.overall.flip_rate ?? null;
    default:
      return m[metric];
  }
}

export function compare(before: EvalEntry, after: EvalEntry): Comparison {
  const deltas: Record<string, number | null> = {};
  for (const k of HEADLINE_METRICS) {
    const a = headline(before, k);
    const b = headline(after, k);
    deltas[k] = a === null || b === null ? null : b - a;
  }
  return { before: before.name, after: after.name, deltas };
}

/** `RESULT eval <name> f1=<x> pc=<x or na>` for one entry. */
export function resultLine(entry: EvalEntry): string {
  const f = (v: number | null | undefined): string => (v === null || v === undefined ? 'na' : v.toFixed(4));
  const tail = entry.available ? '' : ` (skipped: ${entry.note ?? 'unavailable'})`;
  return `RESULT eval ${entry.name} f1=${f(entry.metrics?.f1)} pc=${f(entry.metrics?.paired['P-C'])}${tail}`;
}

const resultsShape = z.looseObject({
  format: z.literal(RESULTS_FORMAT),
  run: z.looseObject({ id: z.string() }),
  suite: z.looseObject({ spec: z.string(), samples: z.number() }),
  models: z.array(z.looseObject({ name: z.string(), kind: z.enum(['model', 'baseline']), available: z.boolean(), metrics: z.unknown(), predictions: z.array(z.unknown()) })),
  comparisons: z.array(z.unknown()),
  samples: z.array(z.looseObject({ id: z.number(), code: z.string() })),
});

export function readResults(path: string): EvalResults {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: cannot read results (${errorMessage(err).split('\n')[0]})`, err);
  }
  const parsed = resultsShape.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${path}: not a finesec eval results file (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  return value as EvalResults;
}
