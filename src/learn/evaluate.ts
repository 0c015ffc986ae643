/**
 * Measuring an adapter for the gate, with the eval stage's own machinery (the report prompt,
 * greedy decoding, the same verdict rules): a DATASET:SPLIT suite is a full `finesec eval` run
 * (results.json, summary, predictions in the knowledge base, so its errors can be harvested
 * later); held-out hard cases, which span datasets, go through the same per-model runner.
 * Suites are frozen: every evaluation of a suite within a learn run must see the same samples.
 */
import type { Llama } from 'node-llama-cpp';
import type { Db } from '../kb/db.js';
import { runEval } from '../eval/evaluate.js';
import type { ResolvedModelSpec } from '../eval/model-spec.js';
import { runModel } from '../eval/runner.js';
import type { SuiteSample } from '../eval/suite.js';
import { InputError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { GATE_METRICS, metricValue, type GateMetric, type ScoredSample } from './gate.js';
import { resolveAdapter, type RegistryWorkspace } from './registry.js';

export interface GateSuite {
  /** DATASET:SPLIT, or a name for held-out hard cases. */
  name: string;
  role: 'target' | 'regression';
  /** Held-out hard cases (no DATASET:SPLIT spec). */
  samples?: SuiteSample[];
}

export interface SuiteRun {
  suite: string;
  adapter: string;
  samples: ScoredSample[];
  predicted: Map<number, 0 | 1>;
  /** The eval run (DATASET:SPLIT suites). */
  evalRun: string | null;
  figures: Record<GateMetric | 'flagged', number | null>;
}

export interface EvaluateOptions {
  limit?: number;
  seed: number;
  maxTokens: number;
  threads: number;
  contextSize?: number;
  llama?: Llama;
  logger: Logger;
}

export function adapterModelSpec(ws: RegistryWorkspace, adapterId: string): ResolvedModelSpec {
  const r = resolveAdapter(ws, adapterId);
  return { kind: 'gguf', text: `adapter:${r.row.id}`, base: r.base, adapters: [{ path: r.adapter, scale: 1 }] };
}

export function figuresOf(samples: readonly ScoredSample[], predicted: ReadonlyMap<number, 0 | 1>): SuiteRun['figures'] {
  const out = {} as SuiteRun['figures'];
  for (const m of GATE_METRICS) out[m] = metricValue(m, samples, predicted);
  out.flagged = samples.length ? samples.filter((s) => predicted.get(s.id) === 1).length / samples.length : null;
  return out;
}

/** Evaluates one registered adapter on one suite. */
export async function evaluateAdapter(ws: RegistryWorkspace & { db: Db; paths: { runs: string } }, adapterId: string, suite: GateSuite, o: EvaluateOptions): Promise<SuiteRun> {
  const spec = adapterModelSpec(ws, adapterId);
  const common = {
    maxTokens: o.maxTokens,
    threads: o.threads,
    logger: o.logger,
    ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
    ...(o.llama ? { llama: o.llama } : {}),
  };
  if (suite.samples) {
    const run = await runModel(adapterId, spec, suite.samples, [], common);
    const predicted = new Map(run.predictions.map((p) => [p.sample_id, p.predicted]));
    const samples = suite.samples.map((s) => ({ id: s.id, label: s.label, pair_id: s.pair_id }));
    return { suite: suite.name, adapter: adapterId, samples, predicted, evalRun: null, figures: figuresOf(samples, predicted) };
  }
  const { results } = await runEval({
    db: ws.db,
    suite: suite.name,
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    seed: o.seed,
    models: [{ name: adapterId, specText: spec.text, spec }],
    baselines: [],
    robustness: false,
    runsDir: ws.paths.runs,
    ...common,
  });
  const entry = results.models[0]!;
  const predicted = new Map(entry.predictions.map((p) => [p.sample_id, p.predicted]));
  const samples = results.samples.map((s) => ({ id: s.id, label: s.label, pair_id: s.pair_id }));
  return { suite: suite.name, adapter: adapterId, samples, predicted, evalRun: results.run.id, figures: figuresOf(samples, predicted) };
}

/** Remembers each suite's samples the first time it is evaluated and refuses a changed suite later. */
export class FrozenSuites {
  private readonly ids = new Map<string, string>();

  check(run: SuiteRun): void {
    const key = run.samples.map((s) => `${s.id}:${s.label}`).join(',');
    const known = this.ids.get(run.suite);
    if (known === undefined) this.ids.set(run.suite, key);
    else if (known !== key) {
      throw new InputError(`suite ${run.suite} changed during the learn run (its samples or labels differ); gate suites must stay frozen`);
    }
  }
}
