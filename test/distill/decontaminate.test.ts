import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { nearDupSettings } from '../../src/corpus/dedup.js';
import { exactJaccard, shingleHashes, tokenHashes } from '../../src/corpus/minhash.js';
import { codeHash, normalizeCode } from '../../src/corpus/normalize.js';
import { distill, type DistillOptions, type DistillSummary } from '../../src/distill/distill.js';
import { readExamples } from '../../src/distill/read-examples.js';
import type { ExampleLine } from '../../src/distill/types.js';
import { ensureDataset } from '../../src/kb/datasets.js';
import { decodeSample, insertSamples, type SampleInput, type SampleRow } from '../../src/kb/samples.js';
import { SilentLogger } from '../../src/util/log.js';
import { synthWorkspace, withDb, withDbAsync, type DistillFixture } from './fixtures.js';

/**
 * Planted contamination: a second dataset whose training samples are copies of the first
 * dataset's valid/test samples, exact (only a comment added: same normalised hash) or near (one
 * statement added before the closing brace), next to clean copies of training samples.
 */
let fx: DistillFixture;
const exactPlants = new Map<number, number>(); // planted sample id -> the eval sample it copies
const nearPlants = new Map<number, { source: number; jaccard: number }>();
const controls = new Set<number>();
let external: number;

const settings = () => nearDupSettings(loadConfig(join(fx.workspace, 'finesec.yaml')));
const shingles = (code: string) => shingleHashes(tokenHashes(normalizeCode(code), settings().identifiers), settings().shingle);

function addStatement(code: string): string {
  const at = code.lastIndexOf('}');
  return `${code.slice(0, at)}    (void)0;\n${code.slice(at)}`;
}

beforeAll(async () => {
  fx = await synthWorkspace({ count: 60, seed: 21 });
  withDb(fx.kb, (db) => {
    const rows = (db.prepare("SELECT * FROM samples WHERE dataset_id = (SELECT id FROM datasets WHERE name = 'syn') ORDER BY id").all() as SampleRow[]).map(decodeSample);
    const evalRows = rows.filter((s) => s.split === 'valid' || s.split === 'test');
    const trainRows = rows.filter((s) => s.split === 'train');
    expect(evalRows.length).toBeGreaterThanOrEqual(8);
    const inputs: SampleInput[] = [];
    const plan: Array<{ key: string; kind: 'exact' | 'near' | 'control'; source: number; code: string }> = [];
    const copy = (s: (typeof rows)[number], key: string, code: string): SampleInput => ({
      sourceKey: key,
      code,
      language: s.language,
      label: s.label,
      cwes: s.cwes,
      flawLines: s.flaw_lines,
      functionName: s.function_name,
      meta: { report: s.meta.report },
    });
    evalRows.forEach((s, i) => {
      const kind = i % 2 === 0 ? 'exact' : 'near';
      const code = kind === 'exact' ? `${s.code}/* planted copy */\n` : addStatement(s.code);
      inputs.push(copy(s, `${kind}-${s.id}`, code));
      plan.push({ key: `${kind}-${s.id}`, kind, source: s.id, code });
    });
    for (const s of trainRows.slice(0, 6)) {
      inputs.push(copy(s, `control-${s.id}`, `${s.code}/* copy of a training sample */\n`));
      plan.push({ key: `control-${s.id}`, kind: 'control', source: s.id, code: s.code });
    }
    const planted = ensureDataset(db, 'planted', 'synth', null);
    insertSamples(db, planted.id, inputs);
    db.prepare('UPDATE samples SET split = ? WHERE dataset_id = ?').run('train', planted.id);
    const idOf = db.prepare('SELECT sample_id FROM sample_sources WHERE dataset_id = ? AND source_key = ?');
    for (const p of plan) {
      const id = (idOf.get(planted.id, p.key) as { sample_id: number }).sample_id;
      const source = rows.find((r) => r.id === p.source)!;
      if (p.kind === 'exact') {
        expect(codeHash(p.code)).toBe(source.code_hash);
        exactPlants.set(id, p.source);
      } else if (p.kind === 'near') {
        expect(codeHash(p.code)).not.toBe(source.code_hash);
        nearPlants.set(id, { source: p.source, jaccard: exactJaccard(shingles(p.code), shingles(source.code)) });
      } else {
        controls.add(id);
      }
    }
    // An evaluation-only dataset without splits: one exact copy of a syn training sample.
    const ext = ensureDataset(db, 'external', 'jsonl', null);
    insertSamples(db, ext.id, [copy(trainRows[0]!, 'ext-0', trainRows[0]!.code)]);
    external = trainRows[0]!.id;
  });
  expect((await fx.cli('teach', '--dataset', 'planted', '--teacher', 'reference')).code).toBe(0);
}, 60_000);
afterAll(() => fx?.cleanup());

let n = 0;
async function run(patch: Partial<DistillOptions>): Promise<{ summary: DistillSummary; examples: ExampleLine[] }> {
  const out = join(fx.dir, `d-${n++}.jsonl`);
  const summary = await withDbAsync(fx.kb, (db) =>
    distill(
      { dataset: 'planted', split: 'train', out, tasks: ['detect', 'report'], curriculum: false, seed: 1, evalDatasets: [], force: true, ...patch },
      { db, config: loadConfig(join(fx.workspace, 'finesec.yaml')), logger: new SilentLogger() },
    ),
  );
  const read = await readExamples(out);
  return { summary, examples: read.examples as unknown as ExampleLine[] };
}

describe('decontamination against every evaluation split', () => {
  it('drops planted exact and near duplicates of valid/test samples, naming the sample each one matched', async () => {
    // The near plants really are near duplicates under the corpus settings (exact Jaccard).
    for (const p of nearPlants.values()) expect(p.jaccard).toBeGreaterThanOrEqual(settings().threshold);
    const { summary, examples } = await run({});
    const d = summary.decontamination;
    expect(d.exact).toBe(exactPlants.size);
    expect(d.near).toBe(nearPlants.size);
    expect(d.droppedSamples).toBe(exactPlants.size + nearPlants.size);
    for (const m of d.matches) {
      if (m.kind === 'exact') {
        expect(m.matched.sample_id).toBe(exactPlants.get(m.sample_id));
        expect(m.matched.similarity).toBe(1);
      } else {
        expect(m.matched.sample_id).toBe(nearPlants.get(m.sample_id)!.source);
        expect(m.matched.similarity).toBeGreaterThanOrEqual(settings().threshold);
      }
      expect(m.matched.dataset).toBe('syn');
      expect(['valid', 'test']).toContain(m.matched.split);
    }
    const kept = new Set(examples.map((e) => e.sample_id));
    for (const id of [...exactPlants.keys(), ...nearPlants.keys()]) expect(kept.has(id)).toBe(false);
    for (const id of controls) expect(kept.has(id)).toBe(true);
    // Examples not built for dropped samples are counted: detect for all, report where expressible.
    expect(d.droppedExamples).toBeGreaterThanOrEqual(d.droppedSamples);
    expect(d.evalSamples).toBeGreaterThan(0);
  });

  it('uses the corpus near-duplicate settings: a stricter threshold keeps the near copies', async () => {
    const path = join(fx.workspace, 'finesec.yaml');
    const highest = Math.max(...[...nearPlants.values()].map((p) => p.jaccard));
    expect(highest).toBeLessThan(0.99);
    writeFileSync(path, 'corpus:\n  near_duplicates:\n    threshold: 0.99\n');
    try {
      const { summary } = await run({});
      expect(summary.decontamination.near).toBe(0);
      expect(summary.decontamination.exact).toBe(exactPlants.size);
    } finally {
      writeFileSync(path, '');
    }
  });

  it('also decontaminates against every sample of an --eval-dataset', async () => {
    const without = await run({ dataset: 'syn' });
    expect(without.examples.some((e) => e.sample_id === external)).toBe(true);
    expect(without.summary.decontamination.droppedSamples).toBe(0);
    const withExt = await run({ dataset: 'syn', evalDatasets: ['external'] });
    expect(withExt.examples.some((e) => e.sample_id === external)).toBe(false);
    const matches = withExt.summary.decontamination.matches;
    expect(matches).toContainEqual(
      expect.objectContaining({ kind: 'exact', sample_id: external, matched: expect.objectContaining({ dataset: 'external', split: null, similarity: 1 }) }),
    );
    // Anything else dropped is a near duplicate of that same external sample (its fixed twin is one).
    for (const m of matches) expect(m.matched).toMatchObject({ dataset: 'external', sample_id: matches[0]!.matched.sample_id });
  });
});
