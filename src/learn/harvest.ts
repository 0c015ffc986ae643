/**
 * Errors of an eval run become feedback (source "eval"): from the predictions the eval stage
 * stores per sample (eval_predictions),
 * - false_negative: a vulnerable sample the model cleared (the right CWE is the sample's first);
 * - false_positive: a not-vulnerable sample the model flagged (the CWE it claimed is kept);
 * - wrong_cwe: a vulnerable sample flagged with no CWE that matches a true one, exactly or through
 *   the catalog's hierarchy (the eval's cwe_correct);
 * - ungrounded: a right verdict whose report failed the grounding checks.
 * Everything passes the evaluation-split check like any feedback: errors on a test split are
 * recorded as refused and never learned.
 */
import type { Db } from '../kb/db.js';
import { FEEDBACK_KINDS, type FeedbackKind } from '../kb/feedback.js';
import { getSample } from '../kb/samples.js';
import { InputError, UsageError } from '../util/errors.js';
import type { EvalSetGuard } from './contamination.js';
import { storeFeedback, type FeedbackWorkspace, type PendingFeedback, type StoredFeedback } from './feedback.js';

interface PredictionRow {
  model: string;
  spec: string;
  sample_id: number;
  label: 0 | 1;
  predicted: 0 | 1;
  cwe_correct: 0 | 1 | null;
  cwes: string;
  status: string;
}

export interface HarvestOptions {
  run: string;
  /** The model's display name in the run; needed when the run evaluated several models. */
  model?: string;
  kinds?: readonly FeedbackKind[];
}

export interface HarvestSummary {
  run: string;
  model: string;
  predictions: number;
  errors: Record<FeedbackKind, number>;
  accepted: number;
  refused: number;
  /** Already harvested from this run. */
  known: number;
  /** Refusal reasons, counted by their first words (e.g. "sample 12 is in the test split"). */
  refusals: Record<string, number>;
  feedbackIds: number[];
}

/** The models (not baselines) an eval run holds predictions for, with their specs. */
export function evalRunModels(db: Db, run: string): Array<{ model: string; spec: string; n: number }> {
  return db
    .prepare(`SELECT model, spec, COUNT(*) AS n FROM eval_predictions WHERE run_id = ? AND kind = 'model' GROUP BY model, spec ORDER BY model`)
    .all(run) as Array<{ model: string; spec: string; n: number }>;
}

/** Picks the run's model: the named one, the one whose spec names this adapter, or the only one. */
export function chooseEvalModel(db: Db, run: string, options: { model?: string; adapterId?: string }): string {
  const models = evalRunModels(db, run);
  if (models.length === 0) {
    const exists = db.prepare('SELECT stage FROM runs WHERE id = ?').get(run) as { stage: string } | undefined;
    throw new InputError(exists ? `run ${run} (${exists.stage}) holds no model predictions` : `no run ${run} in the knowledge base`);
  }
  if (options.model !== undefined) {
    if (!models.some((m) => m.model === options.model)) throw new UsageError(`run ${run} has no model named ${options.model} (models: ${models.map((m) => m.model).join(', ')})`);
    return options.model;
  }
  if (options.adapterId !== undefined) {
    const byAdapter = models.filter((m) => m.spec === `adapter:${options.adapterId}` || m.model === options.adapterId);
    if (byAdapter.length === 1) return byAdapter[0]!.model;
  }
  if (models.length === 1) return models[0]!.model;
  throw new UsageError(`run ${run} evaluated several models (${models.map((m) => m.model).join(', ')}); name one with --eval-model`);
}

/** The kind of error a prediction is, or null when it is right (and grounded where that applies). */
export function errorKind(p: Pick<PredictionRow, 'label' | 'predicted' | 'cwe_correct' | 'status'>): FeedbackKind | null {
  if (p.label === 1 && p.predicted === 0) return 'false_negative';
  if (p.label === 0 && p.predicted === 1) return 'false_positive';
  if (p.label === 1 && p.cwe_correct === 0) return 'wrong_cwe';
  if (p.status === 'ungrounded') return 'ungrounded';
  return null;
}

export function harvestEval(ws: FeedbackWorkspace, o: HarvestOptions & { adapterId?: string }, guard?: EvalSetGuard): HarvestSummary {
  const model = chooseEvalModel(ws.db, o.run, { ...(o.model !== undefined ? { model: o.model } : {}), ...(o.adapterId !== undefined ? { adapterId: o.adapterId } : {}) });
  const kinds = new Set(o.kinds ?? FEEDBACK_KINDS);
  const rows = ws.db
    .prepare(`SELECT model, spec, sample_id, label, predicted, cwe_correct, cwes, status FROM eval_predictions WHERE run_id = ? AND model = ? ORDER BY sample_id`)
    .all(o.run, model) as PredictionRow[];
  const errors = Object.fromEntries(FEEDBACK_KINDS.map((k) => [k, 0])) as Record<FeedbackKind, number>;
  const pending: PendingFeedback[] = [];
  for (const p of rows) {
    const kind = errorKind(p);
    if (kind === null) continue;
    errors[kind]++;
    if (!kinds.has(kind)) continue;
    const sample = getSample(ws.db, p.sample_id);
    if (!sample) continue;
    const predictedCwes = JSON.parse(p.cwes) as string[];
    pending.push({
      source: 'eval',
      sourceRef: `${o.run}:${model}`,
      kind,
      code: sample.code,
      language: sample.language,
      sample,
      file: sample.file,
      functionName: sample.function_name,
      finding: null,
      startLine: sample.start_line,
      reportedCwe: predictedCwes[0] ?? null,
      expectedCwe: p.label === 1 ? (sample.cwes[0] ?? null) : null,
      note: `harvested from eval run ${o.run} (${model}): ${p.status}`,
    });
  }
  const stored: StoredFeedback[] = storeFeedback(ws, pending, guard);
  const summary: HarvestSummary = { run: o.run, model, predictions: rows.length, errors, accepted: 0, refused: 0, known: 0, refusals: {}, feedbackIds: [] };
  for (const s of stored) {
    summary.feedbackIds.push(s.row.id);
    if (!s.created) summary.known++;
    if (s.row.status === 'accepted') summary.accepted++;
    else {
      summary.refused++;
      const key = (s.row.reason ?? '').split(':')[0]!.replace(/\d+/g, 'N');
      summary.refusals[key] = (summary.refusals[key] ?? 0) + 1;
    }
  }
  return summary;
}
