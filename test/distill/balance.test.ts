import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { distill, type DistillOptions, type DistillSummary } from '../../src/distill/distill.js';
import { readExamples } from '../../src/distill/read-examples.js';
import { DISTILL_TASKS, type ExampleLine } from '../../src/distill/types.js';
import { SilentLogger } from '../../src/util/log.js';
import { synthWorkspace, withDb, withDbAsync, type DistillFixture } from './fixtures.js';

let fx: DistillFixture;
let n = 0;

beforeAll(async () => {
  fx = await synthWorkspace({ count: 80, seed: 11 });
}, 60_000);
afterAll(() => fx?.cleanup());

async function run(patch: Partial<DistillOptions>): Promise<{ summary: DistillSummary; examples: ExampleLine[]; text: string }> {
  const out = join(fx.dir, `out-${n++}.jsonl`);
  const summary = await withDbAsync(fx.kb, (db) =>
    distill(
      { dataset: 'syn', split: 'train', out, tasks: ['detect'], curriculum: false, seed: 1, evalDatasets: [], force: true, ...patch },
      { db, config: loadConfig(join(fx.workspace, 'finesec.yaml')), logger: new SilentLogger() },
    ),
  );
  const read = await readExamples(out);
  expect(read.problems).toEqual([]);
  return { summary, examples: read.examples as unknown as ExampleLine[], text: readFileSync(out, 'utf8') };
}

const samplesOf = (examples: ExampleLine[], label: string) => new Set(examples.filter((e) => e.label === label).map((e) => e.sample_id));

describe('negatives', () => {
  it('come from fixed code with not_vulnerable reports and name their vulnerable twin', async () => {
    const { examples } = await run({ tasks: ['detect', 'reasoning', 'report'] });
    const negatives = examples.filter((e) => e.label === 'not_vulnerable');
    expect(negatives.length).toBeGreaterThan(20);
    withDb(fx.kb, (db) => {
      const sample = db.prepare('SELECT label, pair_id, cwes FROM samples WHERE id = ?');
      const knowledgeOf = db.prepare("SELECT id FROM knowledge WHERE sample_id = ? AND status = 'accepted'");
      for (const e of negatives) {
        const s = sample.get(e.sample_id) as { label: number; pair_id: string; cwes: string };
        expect(s.label).toBe(0);
        expect(e.pair).not.toBeNull();
        expect(e.pair!.id).toBe(s.pair_id);
        expect(e.pair!.role).toBe('fixed');
        const twin = sample.get(e.pair!.twin_sample_id!) as { label: number; pair_id: string };
        expect(twin).toMatchObject({ label: 1, pair_id: s.pair_id });
        // The twin is distilled too (group splits keep pairs together), so its knowledge id is named.
        expect(e.pair!.twin_knowledge_id).toBe((knowledgeOf.get(e.pair!.twin_sample_id!) as { id: number }).id);
        // A negative counts under the weakness it is the safe side of.
        expect(e.cwe).toBe((JSON.parse(s.cwes) as string[])[0]);
      }
    });
    for (const e of examples.filter((x) => x.label === 'vulnerable')) expect(e.pair?.role).toBe('vulnerable');
    // The reasoning task teaches "no evidence" on negatives; detect teaches the verdict.
    for (const e of negatives.filter((x) => x.task === 'reasoning')) expect(JSON.parse(e.messages[2]!.content).evidence).toEqual([]);
  });
});

describe('balancing', () => {
  it('caps samples per CWE and label', async () => {
    const all = await run({});
    const capped = await run({ capPerCwe: 1 });
    const count = (examples: ExampleLine[]) => {
      const m = new Map<string, number>();
      for (const e of examples) m.set(`${e.label}/${e.cwe}`, (m.get(`${e.label}/${e.cwe}`) ?? 0) + 1);
      return m;
    };
    const before = count(all.examples);
    const after = count(capped.examples);
    expect([...after.values()].every((v) => v === 1)).toBe(true);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const expectedDrops = [...before.values()].reduce((s, v) => s + v - 1, 0);
    expect(expectedDrops).toBeGreaterThan(0);
    expect(capped.summary.balance.droppedByCap).toBe(expectedDrops);
  });

  it('reaches a target positive/negative ratio, keeping pairs whole where it can', async () => {
    const base = await run({});
    const positives = samplesOf(base.examples, 'vulnerable').size;
    const negatives = samplesOf(base.examples, 'not_vulnerable').size;
    const half = await run({ posRatio: 0.5 });
    expect(samplesOf(half.examples, 'not_vulnerable').size).toBe(negatives);
    expect(samplesOf(half.examples, 'vulnerable').size).toBe(Math.round(negatives * 0.5));
    expect(half.summary.balance.droppedByRatio).toBe(positives - Math.round(negatives * 0.5));
    const three = await run({ posRatio: 3 });
    expect(samplesOf(three.examples, 'vulnerable').size).toBe(positives);
    expect(samplesOf(three.examples, 'not_vulnerable').size).toBe(Math.round(positives / 3));
    // The negatives kept are the fixed twins of kept positives.
    const keptPositives = samplesOf(three.examples, 'vulnerable');
    for (const e of three.examples.filter((x) => x.label === 'not_vulnerable')) expect(keptPositives.has(e.pair!.twin_sample_id!)).toBe(true);
  });

  it('is deterministic by seed: the same seed gives the same bytes, another seed another choice and order', async () => {
    const a = await run({ capPerCwe: 1, seed: 7 });
    const b = await run({ capPerCwe: 1, seed: 7 });
    const c = await run({ capPerCwe: 1, seed: 8 });
    const strip = (text: string) => text.replace(/"run_id":"[^"]+"/g, '"run_id":""');
    expect(strip(a.text)).toBe(strip(b.text));
    expect(a.examples.map((e) => e.id)).not.toEqual(c.examples.map((e) => e.id));
  });

  it('orders by curriculum: task stage first, then shorter code', async () => {
    const { examples } = await run({ tasks: [...DISTILL_TASKS], curriculum: true });
    const stage = (e: ExampleLine) => DISTILL_TASKS.indexOf(e.task);
    for (let i = 1; i < examples.length; i++) {
      const [p, q] = [examples[i - 1]!, examples[i]!];
      expect(stage(p)).toBeLessThanOrEqual(stage(q));
      if (stage(p) === stage(q)) expect(p.code_lines).toBeLessThanOrEqual(q.code_lines);
    }
    expect(examples[0]!.task).toBe('detect');
    expect(examples[examples.length - 1]!.task).toBe('report');
    const shuffled = await run({ tasks: [...DISTILL_TASKS] });
    expect(shuffled.examples.slice(0, 20).some((e) => e.task !== 'detect')).toBe(true);
  });
});
