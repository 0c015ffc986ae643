import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { defaultModelName, modelNames, parseModelSpec, resolveModelSpec } from '../../src/eval/model-spec.js';
import { loadSuite, parseSuiteSpec, suitePairs } from '../../src/eval/suite.js';
import { openKb } from '../../src/kb/db.js';
import { ensureDataset } from '../../src/kb/datasets.js';
import { insertSamples, type SampleInput } from '../../src/kb/samples.js';
import { UsageError } from '../../src/util/errors.js';

const tmp = tempDir('finesec-eval-spec-');
afterAll(() => tmp.cleanup());
const base = join(tmp.dir, 'base.gguf');
const lora = join(tmp.dir, 'sec.lora.gguf');
const plus = join(tmp.dir, 'odd+name.gguf');
for (const f of [base, lora, plus]) writeFileSync(f, 'GGUF');

describe('model specs', () => {
  it('parses a base, a base with adapters, an endpoint and an adapter id', () => {
    expect(parseModelSpec(base)).toEqual({ kind: 'gguf', text: base, base, adapters: [] });
    expect(parseModelSpec(`${base}+${lora}:0.5+${lora}`)).toEqual({
      kind: 'gguf',
      text: `${base}+${lora}:0.5+${lora}`,
      base,
      adapters: [
        { path: lora, scale: 0.5 },
        { path: lora, scale: 1 },
      ],
    });
    expect(parseModelSpec(plus)).toMatchObject({ kind: 'gguf', base: plus, adapters: [] });
    expect(parseModelSpec('openai:qwen2.5-coder@http://127.0.0.1:8080/v1')).toEqual({
      kind: 'openai',
      text: 'openai:qwen2.5-coder@http://127.0.0.1:8080/v1',
      model: 'qwen2.5-coder',
      baseURL: 'http://127.0.0.1:8080/v1',
    });
    expect(parseModelSpec('adapter:sec-v3')).toEqual({ kind: 'adapter', text: 'adapter:sec-v3', id: 'sec-v3' });
  });

  it('refuses bad specs with one line naming the spec', () => {
    const fails = (spec: string, message: string): void => {
      expect(() => parseModelSpec(spec)).toThrow(UsageError);
      expect(() => parseModelSpec(spec)).toThrow(message);
    };
    fails(join(tmp.dir, 'missing.gguf'), `eval: --model ${join(tmp.dir, 'missing.gguf')}: no such file ${join(tmp.dir, 'missing.gguf')}`);
    fails(`${base}+`, 'expected BASE.gguf or BASE.gguf+ADAPTER.gguf[:SCALE]');
    fails(`${base}+${lora}:x1`, `no such file ${lora}:x1`);
    fails('openai:qwen', 'expected openai:MODEL@URL');
    fails('adapter:', 'expected adapter:ID');
    expect(() => resolveModelSpec(parseModelSpec('adapter:sec-v3'), undefined)).toThrow('eval: --model adapter:sec-v3: no adapter registry yet');
    const registry = { resolve: (id: string) => ({ base, adapters: [{ path: lora, scale: id === 'sec-v3' ? 2 : 1 }] }) };
    expect(resolveModelSpec(parseModelSpec('adapter:sec-v3'), registry)).toEqual({ kind: 'gguf', text: 'adapter:sec-v3', base, adapters: [{ path: lora, scale: 2 }] });
  });

  it('names models from --name in order, then from their files, uniquely', () => {
    const specs = [parseModelSpec(base), parseModelSpec(`${base}+${lora}:0.5`), parseModelSpec(base), parseModelSpec('openai:gpt@http://h/v1')];
    expect(defaultModelName(specs[1]!)).toBe('base+sec.lora@0.5');
    expect(modelNames(specs, [], [])).toEqual(['base', 'base+sec.lora@0.5', 'base#2', 'gpt']);
    expect(modelNames(specs, ['before', 'after'], ['cppcheck'])).toEqual(['before', 'after', 'base', 'gpt']);
    expect(() => modelNames(specs, ['a', 'a'], [])).toThrow('eval: --name a is used twice');
    expect(() => modelNames(specs, ['cppcheck'], ['cppcheck'])).toThrow('eval: --name cppcheck is used twice');
    expect(() => modelNames(specs.slice(0, 1), ['a', 'b'], [])).toThrow('eval: 2 --name values for 1 --model values');
    expect(() => modelNames(specs, ['has space'], [])).toThrow(/without spaces or commas/);
  });
});

describe('suites', () => {
  const db = openKb(join(tmp.dir, 'kb.sqlite'));
  afterAll(() => db.close());
  const dataset = ensureDataset(db, 'pairs', 'jsonl', null);
  const rows: SampleInput[] = [];
  for (let i = 0; i < 30; i++) {
    for (const label of [1, 0] as const) {
      rows.push({ sourceKey: `${i}:${label}`, code: `int f${i}_${label}(void) { return ${label}; }`, language: 'c', label, cwes: ['CWE-121'], flawLines: label ? [1] : [], pairId: `p${i}` });
    }
  }
  for (let i = 0; i < 9; i++) rows.push({ sourceKey: `lone${i}`, code: `int lone${i}(void) { return 0; }`, language: 'c', label: 0, cwes: [], flawLines: [] });
  // An exact duplicate with the other label: the merged sample's label becomes unknown.
  rows.push({ sourceKey: 'conflict', code: 'int lone0(void) { return 0; }', language: 'c', label: 1, cwes: [], flawLines: [] });
  insertSamples(db, dataset.id, rows);

  it('parses DATASET[:SPLIT]', () => {
    expect(parseSuiteSpec('juliet')).toEqual({ dataset: 'juliet', split: null });
    expect(parseSuiteSpec('juliet:test')).toEqual({ dataset: 'juliet', split: 'test' });
    expect(() => parseSuiteSpec('juliet:dev')).toThrow('eval: --suite juliet:dev: split must be one of train, valid, test, got "dev"');
    expect(() => parseSuiteSpec('a:b:c')).toThrow('expected DATASET or DATASET:SPLIT');
  });

  it('loads labeled samples, leaves unlabeled ones out, and keeps pairs whole under --limit', () => {
    const all = loadSuite(db, 'pairs');
    expect(all.samples).toHaveLength(68);
    expect(all.unlabeled).toBe(1);
    expect(suitePairs(all.samples)).toHaveLength(30);

    const a = loadSuite(db, 'pairs', { limit: 21, seed: 1 });
    expect(a.samples).toHaveLength(21);
    expect(a.available).toBe(68);
    const pairs = new Map<string, number>();
    for (const s of a.samples) if (s.pair_id) pairs.set(s.pair_id, (pairs.get(s.pair_id) ?? 0) + 1);
    expect([...pairs.values()].every((n) => n === 2)).toBe(true);
    expect(a.samples.map((s) => s.id)).toEqual([...a.samples.map((s) => s.id)].sort((x, y) => x - y));
    // Deterministic by seed; another seed picks other samples; not simply the first rows.
    expect(loadSuite(db, 'pairs', { limit: 21, seed: 1 }).samples.map((s) => s.id)).toEqual(a.samples.map((s) => s.id));
    expect(loadSuite(db, 'pairs', { limit: 21, seed: 2 }).samples.map((s) => s.id)).not.toEqual(a.samples.map((s) => s.id));
    expect(a.samples.map((s) => s.id)).not.toEqual(all.samples.slice(0, 21).map((s) => s.id));
  });

  it('says how to fix an empty split or an unknown dataset', () => {
    expect(() => loadSuite(db, 'pairs:test')).toThrow('split test of dataset pairs has no labeled samples (run: finesec split pairs)');
    expect(() => loadSuite(db, 'nope')).toThrow('no dataset named "nope" (have: pairs)');
  });
});
