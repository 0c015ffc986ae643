import { relatedCwe } from '../cwe/index.js';
import type { Db } from '../kb/db.js';
import { nowIso } from '../kb/db.js';
import type { EvalEntry } from './results.js';
import type { SuiteSample } from './suite.js';

/** Raw outputs above this many characters are cut in the KB (results.json keeps them whole). */
const MAX_RAW = 100_000;

/** Writes every prediction of a run to eval_predictions (one transaction). */
export function storePredictions(db: Db, runId: string, datasetId: number, samples: readonly SuiteSample[], entries: readonly EvalEntry[]): number {
  const bySample = new Map(samples.map((s) => [s.id, s]));
  const insert = db.prepare(`
    INSERT INTO eval_predictions (run_id, model, spec, kind, sample_id, dataset_id, label, predicted, correct, cwe_correct,
      verdict, cwes, lines, score, status, error, raw_output, created_at)
    VALUES (@run_id, @model, @spec, @kind, @sample_id, @dataset_id, @label, @predicted, @correct, @cwe_correct,
      @verdict, @cwes, @lines, @score, @status, @error, @raw_output, @created_at)`);
  const now = nowIso();
  let n = 0;
  db.transaction(() => {
    for (const e of entries) {
      for (const p of e.predictions) {
        const s = bySample.get(p.sample_id)!;
        const scored = s.label === 1 && p.predicted === 1 && s.cwes.length > 0;
        insert.run({
          run_id: runId,
          model: e.name,
          spec: e.spec,
          kind: e.kind,
          sample_id: p.sample_id,
          dataset_id: datasetId,
          label: s.label,
          predicted: p.predicted,
          correct: p.correct ? 1 : 0,
          cwe_correct: scored ? (p.cwes.some((c) => s.cwes.some((t) => relatedCwe(c, t))) ? 1 : 0) : null,
          verdict: p.verdict,
          cwes: JSON.stringify(p.cwes),
          lines: JSON.stringify(p.lines),
          score: p.score,
          status: p.status,
          error: p.error,
          raw_output: p.raw.length > MAX_RAW ? p.raw.slice(0, MAX_RAW) : p.raw,
          created_at: now,
        });
        n++;
      }
    }
  })();
  return n;
}
