import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedPrediction, type Prediction } from '../../src/eval/prediction.js';
import type { EvalEntry } from '../../src/eval/results.js';
import { storePredictions } from '../../src/eval/store.js';
import type { SuiteSample } from '../../src/eval/suite.js';
import { startRun } from '../../src/kb/runs.js';
import type { Sample } from '../../src/kb/samples.js';
import { listFeedback } from '../../src/kb/feedback.js';
import { chooseEvalModel, errorKind, harvestEval } from '../../src/learn/harvest.js';
import { samplesOf, splitWorkspace, type LearnFixture } from './fixtures.js';

let f: LearnFixture;
beforeAll(async () => {
  f = await splitWorkspace({ cwes: 'CWE-134,CWE-369', count: 24 });
});
afterAll(() => f.cleanup());

function suiteSample(s: Sample): SuiteSample {
  return { id: s.id, code: s.code, language: s.language, label: s.label as 0 | 1, cwes: s.cwes, flaw_lines: s.flaw_lines, pair_id: s.pair_id, lines: 1 };
}

function predict(s: Sample, predicted: 0 | 1, extra: Partial<Prediction> = {}): Prediction {
  return { ...failedPrediction(suiteSample(s), '', 0), error: null, predicted, correct: predicted === s.label, verdict: predicted ? 'vulnerable' : 'not_vulnerable', status: 'grounded', ...extra };
}

function entry(name: string, predictions: Prediction[]): EvalEntry {
  return { name, kind: 'model', spec: `adapter:${name}`, available: true, note: null, version: null, mapping: null, metrics: null, robustness: null, predictions };
}

describe('harvesting eval errors', () => {
  it('classifies each prediction', () => {
    expect(errorKind({ label: 1, predicted: 0, cwe_correct: null, status: 'grounded' })).toBe('false_negative');
    expect(errorKind({ label: 0, predicted: 1, cwe_correct: null, status: 'grounded' })).toBe('false_positive');
    expect(errorKind({ label: 1, predicted: 1, cwe_correct: 0, status: 'grounded' })).toBe('wrong_cwe');
    expect(errorKind({ label: 1, predicted: 1, cwe_correct: 1, status: 'ungrounded' })).toBe('ungrounded');
    expect(errorKind({ label: 0, predicted: 0, cwe_correct: null, status: 'ungrounded' })).toBe('ungrounded');
    expect(errorKind({ label: 1, predicted: 1, cwe_correct: 1, status: 'grounded' })).toBeNull();
    expect(errorKind({ label: 0, predicted: 0, cwe_correct: null, status: 'truncated' })).toBeNull();
  });

  it('turns a run\'s errors into feedback: training-split errors accepted, test-split errors refused, a re-harvest adds nothing', () => {
    const w = f.open();
    try {
      const train = samplesOf(w, 'syn', 'train');
      const test = samplesOf(w, 'syn', 'test');
      const vuln = train.filter((s) => s.label === 1);
      const safe = train.filter((s) => s.label === 0);
      const wrongCwe = vuln[2]!.cwes[0] === 'CWE-134' ? 'CWE-369' : 'CWE-134';
      const predictions = [
        predict(vuln[0]!, 0),
        predict(safe[0]!, 1, { cwes: ['CWE-134'] }),
        predict(vuln[1]!, 1, { cwes: [...vuln[1]!.cwes] }),
        predict(vuln[2]!, 1, { cwes: [wrongCwe] }),
        predict(vuln[3]!, 1, { cwes: [...vuln[3]!.cwes], status: 'ungrounded', grounded: false }),
        predict(safe[1]!, 0),
        predict(test.find((s) => s.label === 1)!, 0),
      ];
      const samples = [vuln[0]!, safe[0]!, vuln[1]!, vuln[2]!, vuln[3]!, safe[1]!, test.find((s) => s.label === 1)!].map(suiteSample);
      const run = startRun(w.db, 'eval', { suite: 'syn' }, {});
      storePredictions(w.db, run, train[0]!.dataset_id, samples, [entry('v1', predictions)]);

      const h = harvestEval(w, { run, adapterId: 'v1' });
      expect(h).toMatchObject({ model: 'v1', predictions: 7, accepted: 4, refused: 1, known: 0 });
      expect(h.errors).toEqual({ false_negative: 2, false_positive: 1, wrong_cwe: 1, ungrounded: 1 });
      expect(Object.keys(h.refusals)).toEqual(['sample N is in the test split of dataset syn']);
      // Harvested in sample order.
      const rows = listFeedback(w.db, { source: 'eval' });
      const bySample = (xs: Array<[string, string, number]>) => [...xs].sort((a, b) => a[2] - b[2]);
      expect(rows.map((r) => [r.kind, r.status, r.sample_id])).toEqual(
        bySample([
          ['false_negative', 'accepted', vuln[0]!.id],
          ['false_positive', 'accepted', safe[0]!.id],
          ['wrong_cwe', 'accepted', vuln[2]!.id],
          ['ungrounded', 'accepted', vuln[3]!.id],
          ['false_negative', 'refused', samples[6]!.id],
        ]),
      );
      const of = (id: number) => rows.find((r) => r.sample_id === id)!;
      expect(of(safe[0]!.id)).toMatchObject({ reported_cwe: 'CWE-134', expected_cwe: null, source_ref: `${run}:v1` });
      expect(of(vuln[2]!.id)).toMatchObject({ reported_cwe: wrongCwe, expected_cwe: vuln[2]!.cwes[0] });
      expect(harvestEval(w, { run })).toMatchObject({ known: 5, accepted: 4, refused: 1 });
      expect(listFeedback(w.db, { source: 'eval' })).toHaveLength(5);
      expect(harvestEval(w, { run, kinds: ['wrong_cwe'] }).feedbackIds).toEqual([of(vuln[2]!.id).id]);
    } finally {
      w.close();
    }
  });

  it('picks the run\'s model by name, by adapter, or as the only one, and says what to do otherwise', () => {
    const w = f.open();
    try {
      const s = samplesOf(w, 'syn', 'train')[0]!;
      const run = startRun(w.db, 'eval', {}, {});
      storePredictions(w.db, run, s.dataset_id, [suiteSample(s)], [entry('a', [predict(s, 0)]), entry('b', [predict(s, 1)])]);
      expect(chooseEvalModel(w.db, run, { adapterId: 'b' })).toBe('b');
      expect(chooseEvalModel(w.db, run, { model: 'a' })).toBe('a');
      expect(() => chooseEvalModel(w.db, run, {})).toThrow(/evaluated several models \(a, b\); name one with --eval-model/);
      expect(() => chooseEvalModel(w.db, run, { model: 'c' })).toThrow(/has no model named c/);
      expect(() => chooseEvalModel(w.db, 'eval-nope', {})).toThrow(/no run eval-nope/);
    } finally {
      w.close();
    }
  });
});
