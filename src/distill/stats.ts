import { percentile } from '../corpus/stats.js';
import { DISTILL_TASKS, type DistillTask, type ExampleLine } from './types.js';

/** What the data card and `distill stats` report about a set of examples. */
export interface ExampleFigures {
  examples: number;
  samples: number;
  knowledgeRecords: number;
  datasets: string[];
  byTask: Array<{ task: DistillTask; examples: number; vulnerable: number; not_vulnerable: number }>;
  byLabel: { vulnerable: number; not_vulnerable: number };
  /** "none" collects negatives without a CWE. */
  byCwe: Array<{ cwe: string; examples: number; vulnerable: number; not_vulnerable: number }>;
  /** Examples that carry pair info, and pairs with both sides among the examples' samples. */
  pairs: { examplesWithPair: number; completePairs: number };
  /** Null when no example has a token count (distilled without --base). */
  tokens: TokenFigures | null;
  teachers: Array<{ teacher: string; examples: number }>;
  promptVersions: Array<{ task: DistillTask; version: string; hash: string; examples: number }>;
}

export interface TokenFigures {
  counted: number;
  total: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function exampleFigures(examples: readonly ExampleLine[]): ExampleFigures {
  const byTask = new Map<DistillTask, { vulnerable: number; not_vulnerable: number }>();
  const byCwe = new Map<string, { vulnerable: number; not_vulnerable: number }>();
  const teachers = new Map<string, number>();
  const versions = new Map<string, { task: DistillTask; version: string; hash: string; examples: number }>();
  const samples = new Set<number>();
  const knowledge = new Set<number>();
  const datasets = new Set<string>();
  const pairSides = new Map<string, Set<string>>();
  const byLabel = { vulnerable: 0, not_vulnerable: 0 };
  const tokens: number[] = [];
  let examplesWithPair = 0;
  for (const e of examples) {
    byLabel[e.label]++;
    const t = byTask.get(e.task) ?? { vulnerable: 0, not_vulnerable: 0 };
    t[e.label]++;
    byTask.set(e.task, t);
    const cweKey = e.cwe ?? 'none';
    const c = byCwe.get(cweKey) ?? { vulnerable: 0, not_vulnerable: 0 };
    c[e.label]++;
    byCwe.set(cweKey, c);
    teachers.set(e.teacher, (teachers.get(e.teacher) ?? 0) + 1);
    const vkey = `${e.task}\u0000${e.prompt_version}\u0000${e.prompt_hash}`;
    const v = versions.get(vkey) ?? { task: e.task, version: e.prompt_version, hash: e.prompt_hash, examples: 0 };
    v.examples++;
    versions.set(vkey, v);
    samples.add(e.sample_id);
    knowledge.add(e.knowledge_id);
    datasets.add(e.dataset);
    if (e.pair) {
      examplesWithPair++;
      const sides = pairSides.get(`${e.dataset}\u0000${e.pair.id}`) ?? new Set<string>();
      sides.add(e.pair.role);
      pairSides.set(`${e.dataset}\u0000${e.pair.id}`, sides);
    }
    if (e.tokens !== null) tokens.push(e.tokens);
  }
  return {
    examples: examples.length,
    samples: samples.size,
    knowledgeRecords: knowledge.size,
    datasets: [...datasets].sort(),
    byTask: DISTILL_TASKS.filter((t) => byTask.has(t)).map((t) => ({ task: t, examples: total(byTask.get(t)!), ...byTask.get(t)! })),
    byLabel,
    byCwe: [...byCwe.entries()]
      .map(([cwe, c]) => ({ cwe, examples: total(c), ...c }))
      .sort((a, b) => b.examples - a.examples || a.cwe.localeCompare(b.cwe)),
    pairs: { examplesWithPair, completePairs: [...pairSides.values()].filter((s) => s.size === 2).length },
    tokens: tokenFigures(tokens),
    teachers: [...teachers.entries()].map(([teacher, n]) => ({ teacher, examples: n })).sort((a, b) => b.examples - a.examples || a.teacher.localeCompare(b.teacher)),
    promptVersions: [...versions.values()].sort((a, b) => DISTILL_TASKS.indexOf(a.task) - DISTILL_TASKS.indexOf(b.task) || a.version.localeCompare(b.version)),
  };
}

function total(c: { vulnerable: number; not_vulnerable: number }): number {
  return c.vulnerable + c.not_vulnerable;
}

function tokenFigures(values: number[]): TokenFigures | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    counted: sorted.length,
    total: sum,
    min: sorted[0]!,
    mean: Math.round((sum / sorted.length) * 10) / 10,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}
