import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { checkPage, findChromium } from './chromium.js';
import { openKb } from '../../src/kb/db.js';
import { readGguf } from '../../src/engine/gguf/reader.js';
import { writeGgufLora } from '../../src/engine/adapter/gguf-lora.js';
import { binaryMetrics, pairedMetrics } from '../../src/eval/metrics.js';
import { startServer } from '../../src/serve/server.js';
import { mulberry32 } from '../../src/util/random.js';
import type { EvalResults } from '../../src/eval/results.js';

/**
 * End to end: a tiny random model and the same model with a random LoRA adapter, plus cppcheck and
 * flawfinder, on a small synthetic suite with robustness rewrites; then the same command again
 * (identical results apart from timings), `finesec report`, and the page in headless Chromium.
 */
const tmp = tempDir('finesec-eval-');
afterAll(() => tmp.cleanup());
const ws = join(tmp.dir, 'ws');
let base: string;
let adapter: string;

function writeRandomAdapter(basePath: string, out: string, seed: number): void {
  const file = readGguf(basePath);
  const rand = mulberry32(seed);
  const rank = 4;
  const pairs = file.tensors
    .filter((t) => /\.(attn_q|attn_v|ffn_up|ffn_down)\.weight$/.test(t.name))
    .map((t) => {
      const [inFeatures, outFeatures] = t.dims as [number, number];
      return {
        target: t.name,
        rank,
        inFeatures,
        outFeatures,
        a: Float32Array.from({ length: rank * inFeatures }, () => (rand() - 0.5) * 2),
        b: Float32Array.from({ length: outFeatures * rank }, () => (rand() - 0.5) * 2),
      };
    });
  writeGgufLora(out, { architecture: String(file.metadata.get('general.architecture')!.value), alpha: rank, pairs });
}

beforeAll(async () => {
  expect((await runCli(['synth', '--count', '12', '--seed', '4', '--name', 'syn', '--workspace', ws, '--quiet'])).code).toBe(0);
  expect((await runCli(['split', 'syn', '--by', 'group', '--ratios', '0,0,1', '--workspace', ws, '--quiet'])).code).toBe(0);
  base = await tinyModel();
  adapter = join(tmp.dir, 'student.lora.gguf');
  writeRandomAdapter(base, adapter, 3);
}, 120_000);

function evalArgs(out: string): string[] {
  return [
    'eval', '--workspace', ws, '--suite', 'syn:test',
    '--model', base, '--model', `${base}+${adapter}:1`, '--name', 'base', '--name', 'student',
    '--baseline', 'cppcheck,flawfinder', '--robustness', '--max-tokens', '120', '--out', out,
  ];
}

/** results.json without the fields that are timings by design. */
function withoutTimings(r: EvalResults): unknown {
  const copy = structuredClone(r) as unknown as { run?: unknown; models: Array<{ metrics: { cost?: unknown } | null; predictions: Array<{ seconds?: number }> }> };
  delete copy.run;
  for (const m of copy.models) {
    if (m.metrics) delete m.metrics.cost;
    for (const p of m.predictions) delete p.seconds;
  }
  return copy;
}

const RESULT_LINE = /^RESULT eval (\S+) f1=(\d\.\d{4}|na) pc=(\d\.\d{4}|na)$/;

describe('finesec eval end to end', () => {
  const out1 = join(tmp.dir, 'run1');
  const out2 = join(tmp.dir, 'run2');
  let results: EvalResults;

  it('evaluates two models and both baselines with robustness, writes the three outputs and the KB rows', async () => {
    const r = await runCli([...evalArgs(out1), '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { run_id: string; out: string; result_lines: string[] };
    expect(json.out).toBe(out1);
    expect(json.result_lines.map((l) => RESULT_LINE.exec(l)?.[1])).toEqual(['base', 'student', 'cppcheck', 'flawfinder']);

    results = JSON.parse(readFileSync(join(out1, 'results.json'), 'utf8')) as EvalResults;
    expect(results.suite).toMatchObject({ spec: 'syn:test', dataset: 'syn', split: 'test', samples: 12, vulnerable: 6, fixed: 6, pairs: 6 });
    expect(results.models.map((m) => [m.name, m.kind, m.available])).toEqual([
      ['base', 'model', true],
      ['student', 'model', true],
      ['cppcheck', 'baseline', true],
      ['flawfinder', 'baseline', true],
    ]);
    expect(results.before).toBe('base');
    const truth = new Map(results.samples.map((s) => [s.id, s]));
    for (const m of results.models) {
      const metrics = m.metrics!;
      for (const key of ['accuracy', 'precision', 'recall', 'f1', 'mcc', 'fpr', 'vds', 'cwe', 'localization', 'quality', 'cost', 'ci']) expect(metrics).toHaveProperty(key);
      expect(Object.keys(metrics.paired).sort()).toEqual(['P-B', 'P-C', 'P-R', 'P-V', 'pairs']);
      expect(metrics.ci.f1).not.toBeUndefined();
      // Every sample has exactly one prediction, and the metrics are those of the predictions.
      expect(m.predictions.map((p) => p.sample_id)).toEqual(results.samples.map((s) => s.id));
      const labels = m.predictions.map((p) => truth.get(p.sample_id)!.label);
      const predicted = m.predictions.map((p) => p.predicted);
      expect(metrics).toMatchObject(binaryMetrics(labels, predicted));
      const byPair = new Map<string, { vulnerable: number; fixed: number }>();
      for (const p of m.predictions) {
        const s = truth.get(p.sample_id)!;
        const pair = byPair.get(s.pair_id!) ?? { vulnerable: -1, fixed: -1 };
        pair[s.label === 1 ? 'vulnerable' : 'fixed'] = p.predicted;
        byPair.set(s.pair_id!, pair);
      }
      expect(metrics.paired).toEqual(pairedMetrics([...byPair.values()]));
      expect(m.robustness!.overall.applicable).toBe(Object.values(results.robustness!.rewrites).reduce((a, b) => a + b, 0));
      if (m.kind === 'model') {
        expect(metrics.quality!.reports).toBe(12);
        expect(metrics.cost.completion_tokens).toBeGreaterThan(0);
        expect(metrics.cost.peak_rss_mb).toBeGreaterThan(0);
        for (const p of m.predictions) expect(p.raw.length).toBeGreaterThan(0);
      } else {
        expect(metrics.quality).toBeNull();
        expect(m.version).toMatch(/\d+\.\d+/);
        expect(m.mapping).toMatch(/vulnerable when/);
        for (const p of m.predictions) expect(p.tool_findings).toBeDefined();
      }
    }
    // Rename, dead code and reformat apply to every synthetic sample.
    expect(results.robustness!.rewrites).toMatchObject({ rename: 12, dead_code: 12, reformat: 12 });
    // The adapter changes what the model says.
    const [b, s] = results.models;
    expect(s!.predictions.map((p) => p.raw)).not.toEqual(b!.predictions.map((p) => p.raw));
    expect(results.comparisons).toHaveLength(1);
    expect(results.comparisons[0]!.deltas.f1).toBeCloseTo((s!.metrics!.f1 ?? NaN) - (b!.metrics!.f1 ?? NaN), 12);

    const summary = readFileSync(join(out1, 'summary.md'), 'utf8');
    expect(summary).toContain('| Metric | base (before) | student | Δ student vs base | cppcheck (baseline) | flawfinder (baseline) |');
    expect(summary).toMatch(/\| P-C \(pair correct\) \| /);
    for (const line of json.result_lines) expect(summary).toContain(line);

    const db = openKb(join(ws, 'kb.sqlite'), { readonly: true });
    try {
      const run = db.prepare('SELECT stage, status FROM runs WHERE id = ?').get(json.run_id);
      expect(run).toEqual({ stage: 'eval', status: 'done' });
      const rows = db.prepare('SELECT model, COUNT(*) AS n, SUM(correct) AS right FROM eval_predictions WHERE run_id = ? GROUP BY model ORDER BY model').all(json.run_id) as Array<{ model: string; n: number; right: number }>;
      expect(rows.map((row) => row.model)).toEqual(['base', 'cppcheck', 'flawfinder', 'student']);
      for (const row of rows) {
        expect(row.n).toBe(12);
        expect(row.right).toBe(results.models.find((m) => m.name === row.model)!.predictions.filter((p) => p.correct).length);
      }
    } finally {
      db.close();
    }
  }, 180_000);

  it('gives identical results.json apart from timings on a second run, and ends the text output with RESULT lines', async () => {
    const r = await runCli(evalArgs(out2));
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(-4).map((l) => RESULT_LINE.exec(l)?.[1])).toEqual(['base', 'student', 'cppcheck', 'flawfinder']);
    const again = JSON.parse(readFileSync(join(out2, 'results.json'), 'utf8')) as EvalResults;
    expect(again.run.id).not.toBe(results.run.id);
    expect(withoutTimings(again)).toEqual(withoutTimings(results));
  }, 180_000);

  it('re-renders summary.md and report.html from results.json with finesec report', async () => {
    const summary = readFileSync(join(out1, 'summary.md'), 'utf8');
    const html = readFileSync(join(out1, 'report.html'), 'utf8');
    writeFileSync(join(out1, 'summary.md'), 'stale');
    writeFileSync(join(out1, 'report.html'), 'stale');
    const r = await runCli(['report', out1]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote summary.md and report.html to ${out1}`);
    expect(readFileSync(join(out1, 'summary.md'), 'utf8')).toBe(summary);
    expect(readFileSync(join(out1, 'report.html'), 'utf8')).toBe(html);

    const bad = join(tmp.dir, 'not-results.json');
    writeFileSync(bad, '{"format":"something else"}');
    const refused = await runCli(['report', bad, '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error.message).toMatch(/not a finesec eval results file \(format: /);
  });

  it('opens report.html in headless Chromium without console errors and shows the metrics table', async () => {
    const chromium = findChromium();
    if (!chromium) {
      if (process.env.FINESEC_ALLOW_NO_CHROMIUM === '1') return;
      throw new Error('chromium is not installed (apt-get install chromium), or set FINESEC_ALLOW_NO_CHROMIUM=1');
    }
    // The harness itself sees console errors, exceptions and failed loads.
    const broken = join(tmp.dir, 'broken.html');
    writeFileSync(broken, '<!doctype html><title>x</title><img src="missing.png"><script>console.error("boom");</script>');
    const check = await checkPage(chromium, broken, '1');
    expect(check.problems.some((p) => p.includes('boom'))).toBe(true);
    expect(check.problems.some((p) => p.includes('missing.png'))).toBe(true);

    const page = await checkPage(
      chromium,
      join(out1, 'report.html'),
      `(() => ({
        headers: [...document.querySelectorAll('#metrics thead th')].map((th) => th.textContent.trim()),
        rows: [...document.querySelectorAll('#metrics tbody tr')].map((tr) => tr.querySelector('th').textContent),
        charts: document.querySelectorAll('svg.chart').length,
        samples: document.querySelectorAll('section.sample').length,
      }))()`,
    );
    expect(page.problems).toEqual([]);
    const value = page.value as { headers: string[]; rows: string[]; charts: number; samples: number };
    expect(value.headers).toEqual(['Metric', 'base before', 'student', 'Δ vs base', 'cppcheck baseline', 'flawfinder baseline']);
    expect(value.rows).toEqual(expect.arrayContaining(['Accuracy', 'F1', 'MCC', 'P-C (pair correct)', 'VD-S (FNR @ FPR<=0.5%)']));
    // before/after, per-CWE, 4 confusion matrices, robustness
    expect(value.charts).toBe(7);
    expect(value.samples).toBeGreaterThan(0);
  }, 120_000);
});

describe('finesec eval model specs and baselines', () => {
  it('gives the same predictions for a model served over the OpenAI-compatible API (openai:MODEL@URL)', async () => {
    const server = await startServer({ model: base, modelId: 'tiny', contextSize: 2048 });
    try {
      const out = join(tmp.dir, 'served');
      const r = await runCli([
        'eval', '--workspace', ws, '--suite', 'syn:test', '--limit', '4', '--max-tokens', '120', '--out', out, '--json',
        '--model', base, '--model', `openai:tiny@${server.url}`, '--name', 'local', '--name', 'served', '--compare', 'served',
      ]);
      expect(r.code).toBe(0);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as EvalResults;
      expect(results.suite.samples).toBe(4);
      const [local, served] = results.models;
      expect(served!.spec).toBe(`openai:tiny@${server.url}`);
      expect(served!.predictions.map((p) => [p.raw, p.status])).toEqual(local!.predictions.map((p) => [p.raw, p.status]));
      // --compare makes the served model "before".
      expect(results.before).toBe('served');
      expect(results.comparisons.map((c) => [c.before, c.after])).toEqual([['served', 'local']]);
      expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('| Metric | local | Δ local vs served | served (before) |');
    } finally {
      await server.close();
    }
  }, 120_000);

  it('skips a baseline that is not installed with a note, and refuses adapter ids until the registry exists', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(tmp.dir, 'empty-path');
    let r;
    try {
      r = await runCli(['eval', '--workspace', ws, '--suite', 'syn', '--baseline', 'cppcheck,flawfinder', '--out', join(tmp.dir, 'nobaselines')]);
    } finally {
      process.env.PATH = path;
    }
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      'RESULT eval cppcheck f1=na pc=na (skipped: cppcheck is not installed (not found on PATH))',
      'RESULT eval flawfinder f1=na pc=na (skipped: flawfinder is not installed (not found on PATH))',
    ]);
    const summary = readFileSync(join(tmp.dir, 'nobaselines', 'summary.md'), 'utf8');
    expect(summary).toContain('- **cppcheck**: skipped: cppcheck is not installed (not found on PATH)');

    const refused = await runCli(['eval', '--workspace', ws, '--suite', 'syn', '--model', 'adapter:sec-v1', '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error.message).toMatch(/no adapter "sec-v1" in the registry/);
  });

  it('evaluates a registered adapter (adapter:ID) exactly like the base plus that adapter file', async () => {
    expect((await runCli(['adapters', 'register', adapter, '--base', base, '--id', 'sec-v1', '--workspace', ws, '--quiet'])).code).toBe(0);
    const run = async (spec: string, out: string) => {
      const r = await runCli(['eval', '--workspace', ws, '--suite', 'syn:test', '--model', spec, '--name', 'm', '--max-tokens', '60', '--limit', '4', '--out', join(tmp.dir, out)]);
      expect(r.code).toBe(0);
      const results = JSON.parse(readFileSync(join(tmp.dir, out, 'results.json'), 'utf8')) as { models: Array<{ predictions: Array<{ raw?: string; verdict?: string }> }> };
      const predictions = results.models[0]!.predictions;
      expect(predictions.length).toBeGreaterThan(0);
      expect(predictions.every((p) => typeof p.raw === 'string' && p.raw.length > 0)).toBe(true);
      return predictions.map((p) => [p.verdict, p.raw]);
    };
    expect(await run('adapter:sec-v1', 'registered')).toEqual(await run(`${base}+${adapter}`, 'by-file'));
  });
});
