/**
 * `finesec learn`: rounds of the continual-learning loop, each
 *   feedback (harvested eval errors and/or stored feedback, checked against every evaluation split)
 *   -> hold out some hard cases for the gate -> re-teach the rest (knowledge linked to its feedback)
 *   -> hard examples + a CWE-stratified replay of earlier examples -> warm-started update of the
 *   current adapter for a bounded number of steps -> a registered candidate -> the gate (frozen
 *   regression suites, held-out hard cases, target suites) -> promoted, or kept as rejected with
 *   its numbers.
 * Rounds stop when the gate rejects a candidate, when there is nothing new to learn, or after
 * `rounds`. In later rounds the hard cases are the errors of the newly promoted adapter on the
 * suites of the --from-eval runs, evaluated again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FinesecConfig } from '../config/schema.js';
import type { WorkspacePaths } from '../config/workspace.js';
import { exampleJson } from '../distill/example.js';
import type { DistillTask, ExampleLine } from '../distill/types.js';
import type { TrainSettings } from '../engine/train/settings.js';
import type { LoraTarget } from '../engine/model/lora.js';
import type { SuiteSample } from '../eval/suite.js';
import { updateAdapterEvaluation } from '../kb/adapters.js';
import type { Db } from '../kb/db.js';
import { linkedKnowledge, listFeedback, refuseFeedback, type FeedbackRow } from '../kb/feedback.js';
import { listLearnRounds, saveLearnRound } from '../kb/learn-rounds.js';
import { recordRejection } from '../kb/rejections.js';
import { finishRun, startRun } from '../kb/runs.js';
import { getSample, type Sample } from '../kb/samples.js';
import { codeLines } from '../runtime/report-prompt.js';
import { errorMessage, UsageError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import type { Logger } from '../util/log.js';
import { EvalSetGuard } from './contamination.js';
import { evaluateAdapter, FrozenSuites, type GateSuite, type SuiteRun } from './evaluate.js';
import { decide, type GateDecision, type GateMetric, type SuiteFigures } from './gate.js';
import { buildHardExamples } from './hard-examples.js';
import { harvestEval, type HarvestSummary } from './harvest.js';
import { splitHoldout } from './holdout.js';
import { promoteAdapter, registerAdapter, rejectAdapter, resolveAdapter } from './registry.js';
import { loadReplayPool, replayCount, shuffleBySeed, stratifiedSample } from './replay.js';
import { reteach, type ReteachSummary } from './reteach.js';
import { warmStartUpdate } from './update.js';

export interface LearnOptions {
  /** The adapter to improve: an id, or "current". */
  adapter: string;
  /** Eval runs whose errors are the first round's hard cases. */
  fromEval: string[];
  /** The model's name in those runs, when they evaluated several. */
  evalModel?: string;
  /** Also learn from stored feedback not learned by a promoted round yet. */
  fromFeedback: boolean;
  rounds: number;
  /** Regression suites (DATASET:SPLIT): none may fall by more than the tolerance. */
  suites: string[];
  /** Target suites (DATASET:SPLIT), judged with the held-out hard cases. */
  targets: string[];
  margin: number;
  tolerance: number;
  metric: GateMetric;
  regressionMetric: GateMetric;
  maxSteps: number;
  replay: number;
  seed: number;
  holdout: number;
  tasks: DistillTask[];
  lr?: number;
  suiteLimit?: number;
  /** Tokens a model may generate per report in the gate's evaluations. */
  maxTokens: number;
  threads: number;
  contextSize?: number;
  teachers?: string[];
  maxCostUsd?: number;
}

export interface LearnDeps {
  db: Db;
  config: FinesecConfig;
  paths: WorkspacePaths;
  logger: Logger;
}

export interface SuiteSummary {
  suite: string;
  role: 'target' | 'regression';
  metric: GateMetric;
  samples: number;
  before: number | null;
  after: number | null;
  delta: number;
  ok: boolean;
  /** Every gate metric and the share flagged vulnerable, before and after. */
  figures: { before: SuiteRun['figures']; after: SuiteRun['figures'] };
  evalRuns: { before: string | null; after: string | null };
}

export interface RoundSummary {
  round: number;
  parent: string;
  candidate: string | null;
  decision: 'promoted' | 'rejected' | 'stopped';
  reason: string;
  feedback: {
    selected: number;
    /** Accepted before, refused now: their code entered an evaluation split since. */
    newlyRefused: number;
    trained: number[];
    heldOut: number[];
    harvests: HarvestSummary[];
  };
  knowledge: Omit<ReteachSummary, 'links'> | null;
  examples: { hard: number; replay: number; replayPool: number; replayDropped: number; data: string | null; sha256: string | null };
  training: { run: string; steps: number; firstLoss: number | null; loss: number | null; seconds: number; rank: number } | null;
  suites: SuiteSummary[];
  gate: GateDecision | null;
}

export interface LearnSummary {
  run: string;
  start: string;
  current: string;
  promoted: number;
  rounds: RoundSummary[];
  stopped: string;
  dir: string;
}

export async function learn(o: LearnOptions, deps: LearnDeps): Promise<LearnSummary> {
  const { db, config, paths, logger } = deps;
  checkOptions(o);
  const ws = { db, config, paths };
  const start = resolveAdapter(ws, o.adapter).row;
  for (const run of o.fromEval) if (!db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run)) throw new UsageError(`learn: --from-eval ${run}: no such run`);
  const runId = startRun(db, 'learn', { ...o, adapter: start.id }, { adapter: start.id, fromEval: o.fromEval, fromFeedback: o.fromFeedback });
  const dir = join(paths.runs, runId);
  mkdirSync(dir, { recursive: true });
  const summary: LearnSummary = { run: runId, start: start.id, current: start.id, promoted: 0, rounds: [], stopped: '', dir };
  const frozen = new FrozenSuites();
  const before = new Map<string, SuiteRun>();
  const evalOptions = {
    seed: o.seed,
    maxTokens: o.maxTokens,
    threads: o.threads,
    logger,
    ...(o.suiteLimit !== undefined ? { limit: o.suiteLimit } : {}),
    ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
  };
  const evaluate = async (adapterId: string, suite: GateSuite): Promise<SuiteRun> => {
    const key = `${adapterId}|${suite.name}`;
    const known = before.get(key);
    if (known) return known;
    logger.info(`learn: evaluating ${adapterId} on ${suite.name}`);
    const r = await evaluateAdapter(ws, adapterId, suite, evalOptions);
    if (!suite.samples) frozen.check(r);
    before.set(key, r);
    return r;
  };
  // Feedback this run already trained on or held out: later rounds take only what is new.
  const seen = new Set<number>();
  try {
    let parent = start.id;
    for (let round = 1; round <= o.rounds; round++) {
      const r = await runRound(round, parent, o, deps, runId, dir, evaluate, seen);
      for (const id of [...r.feedback.trained, ...r.feedback.heldOut]) seen.add(id);
      summary.rounds.push(r);
      saveLearnRound(db, { runId, round, parentId: parent, candidateId: r.candidate, decision: r.decision, reason: r.reason, summary: r });
      logger.info(`learn round ${round}: ${r.decision}: ${r.reason}`);
      if (r.decision !== 'promoted') {
        summary.stopped = r.decision === 'rejected' ? 'the gate rejected the candidate (no further improvement)' : r.reason;
        break;
      }
      summary.promoted++;
      parent = r.candidate!;
      summary.current = parent;
    }
    if (!summary.stopped) summary.stopped = `${o.rounds} round(s) done`;
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    finishRun(db, runId, 'done', { promoted: summary.promoted, current: summary.current, rounds: summary.rounds.length, stopped: summary.stopped });
    return summary;
  } catch (err) {
    finishRun(db, runId, 'failed', { error: errorMessage(err), rounds: summary.rounds.length });
    throw err;
  }
}

function checkOptions(o: LearnOptions): void {
  if (o.fromEval.length === 0 && !o.fromFeedback) throw new UsageError('learn: give --from-eval RUN and/or --from-feedback (where the hard cases come from)');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new UsageError(`learn: --rounds expects an integer >= 1, got ${o.rounds}`);
  if (!Number.isInteger(o.maxSteps) || o.maxSteps < 1) throw new UsageError(`learn: --max-steps expects an integer >= 1, got ${o.maxSteps}`);
  if (!(o.margin >= 0) || !(o.tolerance >= 0)) throw new UsageError('learn: --margin and --tolerance expect numbers >= 0');
  if (!(o.holdout >= 0 && o.holdout < 1)) throw new UsageError(`learn: holdout expects a fraction in [0, 1), got ${o.holdout}`);
  replayCount(1, o.replay);
  if (o.targets.length === 0 && o.holdout === 0) {
    throw new UsageError('learn: nothing would measure improvement: give --target DATASET:SPLIT or hold out hard cases (learn.holdout > 0)');
  }
}

type Evaluate = (adapterId: string, suite: GateSuite) => Promise<SuiteRun>;

interface HardCase {
  feedback: FeedbackRow;
  sample: Sample;
}

async function runRound(
  round: number,
  parentId: string,
  o: LearnOptions,
  deps: LearnDeps,
  runId: string,
  dir: string,
  evaluate: Evaluate,
  seen: ReadonlySet<number>,
): Promise<RoundSummary> {
  const { db, config, paths, logger } = deps;
  const ws = { db, config, paths };
  const roundDir = join(dir, `round-${round}`);
  mkdirSync(roundDir, { recursive: true });
  const r: RoundSummary = {
    round,
    parent: parentId,
    candidate: null,
    decision: 'stopped',
    reason: '',
    feedback: { selected: 0, newlyRefused: 0, trained: [], heldOut: [], harvests: [] },
    knowledge: null,
    examples: { hard: 0, replay: 0, replayPool: 0, replayDropped: 0, data: null, sha256: null },
    training: null,
    suites: [],
    gate: null,
  };
  const guard = new EvalSetGuard(db, config);

  // 1. Feedback: this round's eval errors, and stored feedback not learned yet.
  const ids = new Set<number>();
  for (const run of await harvestRuns(round, parentId, o, deps, evaluate)) {
    const h = harvestEval(ws, { run, ...(round === 1 && o.evalModel ? { model: o.evalModel } : {}), adapterId: parentId }, guard);
    r.feedback.harvests.push(h);
    for (const id of h.feedbackIds) ids.add(id);
  }
  if (o.fromFeedback) {
    const learned = learnedFeedback(db);
    for (const f of listFeedback(db, { status: 'accepted' })) if (!learned.has(f.id) && !seen.has(f.id)) ids.add(f.id);
  }
  const accepted = listFeedback(db, { ids: [...ids], status: 'accepted' }).filter((f) => f.sample_id !== null);
  // 2. Evaluation splits may have grown since the feedback was stored: check again.
  const cases: HardCase[] = accepted.map((f) => ({ feedback: f, sample: getSample(db, f.sample_id!)! })).filter((c) => c.sample !== undefined);
  const reasons = guard.check(cases.map((c) => ({ code: c.sample.code, sample: c.sample })));
  cases.forEach((c, i) => {
    if (reasons[i] !== null) {
      refuseFeedback(db, c.feedback.id, reasons[i]!);
      r.feedback.newlyRefused++;
    }
  });
  const clean = cases.filter((_, i) => reasons[i] === null);
  r.feedback.selected = clean.length;
  if (clean.length === 0) {
    r.reason = 'no new accepted feedback to learn from';
    return r;
  }

  // 3. Held-out hard cases for the gate (whole pairs / clusters), the rest to train on.
  const labelled = clean.filter((c) => c.sample.label !== null);
  const { held } = splitHoldout(labelled, o.holdout, o.seed + round);
  const heldSamples = new Set(held.map((c) => c.sample.id));
  const train = clean.filter((c) => !heldSamples.has(c.sample.id));
  r.feedback.trained = train.map((c) => c.feedback.id);
  r.feedback.heldOut = held.map((c) => c.feedback.id);

  // 4. Re-teaching and the hard examples.
  const taught = await reteach(deps, train.map((c) => c.feedback), {
    ...(o.teachers ? { teachers: o.teachers } : {}),
    ...(o.maxCostUsd !== undefined ? { maxCostUsd: o.maxCostUsd } : {}),
  });
  const { links: _links, ...knowledge } = taught;
  r.knowledge = knowledge;
  const linked = linkedKnowledge(db, train.map((c) => c.feedback.id));
  const knowledgeIds = train.flatMap((c) => linked.get(c.feedback.id) ?? []);
  const hard = buildHardExamples(db, knowledgeIds, o.tasks, runId);
  for (const s of hard.skipped) recordRejection(db, { stage: 'learn', datasetId: null, source: `knowledge:${s.knowledgeId}`, line: null, reason: `${s.task}: ${s.reason}` });
  r.examples.hard = hard.examples.length;
  if (hard.examples.length === 0) {
    r.reason = 'the teacher gave no accepted knowledge for the hard cases, so there is nothing to train on';
    return r;
  }

  // 5. Replay of earlier examples, stratified by CWE, never from an evaluation split.
  const exclude = new Set(clean.map((c) => c.sample.id));
  const pool = loadReplayPool(db, { tasks: o.tasks, excludeSamples: exclude, files: earlierRoundData(db) });
  r.examples.replayPool = pool.length;
  let replay = stratifiedSample(pool, replayCount(hard.examples.length, o.replay), o.seed + round);
  const replaySamples = [...new Set(replay.map((e) => e.sample_id))].map((id) => getSample(db, id)).filter((s): s is Sample => s !== undefined);
  const replayReasons = guard.check(replaySamples.map((s) => ({ code: s.code, sample: s })));
  const dirty = new Set(replaySamples.filter((_, i) => replayReasons[i] !== null).map((s) => s.id));
  r.examples.replayDropped = replay.filter((e) => dirty.has(e.sample_id)).length;
  replay = replay.filter((e) => !dirty.has(e.sample_id));
  r.examples.replay = replay.length;
  const batch = shuffleBySeed([...hard.examples, ...replay], o.seed + round);
  const data = join(roundDir, 'data.jsonl');
  const text = batch.map((e: ExampleLine) => exampleJson(e) + '\n').join('');
  writeFileSync(data, text);
  r.examples.data = data;
  r.examples.sha256 = sha256(text);

  // 6. The warm-started update and the candidate.
  const parent = resolveAdapter(ws, parentId);
  const settings = updateSettings(config, o, round);
  const trainRun = startRun(db, 'train', { settings, threads: o.threads, learn: runId, round }, { base: parent.base, init: parent.adapter, data });
  let update;
  try {
    update = await warmStartUpdate({
      base: parent.base,
      parentAdapter: parent.adapter,
      data,
      dir: join(roundDir, 'update'),
      settings,
      threads: o.threads,
      metricsPath: join(roundDir, 'metrics.jsonl'),
      logger,
      onRejection: (source, line, reason) => recordRejection(db, { stage: 'train', datasetId: null, source, line, reason }),
    });
    finishRun(db, trainRun, 'done', update.train);
  } catch (err) {
    finishRun(db, trainRun, 'failed', { error: errorMessage(err) });
    throw err;
  }
  r.training = { run: trainRun, steps: update.train.steps, firstLoss: update.train.firstLoss, loss: update.train.loss, seconds: update.train.seconds, rank: update.rank };
  const candidate = registerAdapter(ws, {
    file: update.adapter,
    base: parent.base,
    parentId,
    dataSha256: r.examples.sha256,
    trainRunId: trainRun,
    status: 'candidate',
    metrics: { learn: { run: runId, round } },
    note: `learn ${runId} round ${round}`,
  });
  r.candidate = candidate.id;

  // 7. The gate.
  const suites: Array<GateSuite & { metric: GateMetric }> = [
    ...o.suites.map((name) => ({ name, role: 'regression' as const, metric: o.regressionMetric })),
    ...o.targets.map((name) => ({ name, role: 'target' as const, metric: o.metric })),
  ];
  if (held.length > 0) {
    const heldCases = [...new Map(held.map((c) => [c.sample.id, c.sample])).values()];
    suites.push({ name: `hard-cases:${runId}:round-${round}`, role: 'target', metric: o.metric, samples: heldCases.map(suiteSample) });
  }
  const figures: SuiteFigures[] = [];
  for (const s of suites) {
    const b = await evaluate(parentId, s);
    const a = await evaluate(candidate.id, s);
    figures.push({ suite: s.name, role: s.role, metric: s.metric, samples: a.samples.length, before: b.figures[s.metric], after: a.figures[s.metric] });
    r.suites.push({
      suite: s.name,
      role: s.role,
      metric: s.metric,
      samples: a.samples.length,
      before: b.figures[s.metric],
      after: a.figures[s.metric],
      delta: 0,
      ok: true,
      figures: { before: b.figures, after: a.figures },
      evalRuns: { before: b.evalRun, after: a.evalRun },
    });
  }
  const gate = decide(figures, { margin: o.margin, tolerance: o.tolerance });
  r.gate = gate;
  gate.suites.forEach((v, i) => {
    r.suites[i]!.delta = v.delta;
    r.suites[i]!.ok = v.ok;
  });
  const gateNumbers = { gate: { metric: o.metric, regression_metric: o.regressionMetric, margin: o.margin, tolerance: o.tolerance, target: gate.target, suites: r.suites.map(compactSuite) } };
  const afterRuns = r.suites.map((s) => s.evalRuns.after).filter((x): x is string => x !== null);
  const beforeRuns = r.suites.map((s) => s.evalRuns.before).filter((x): x is string => x !== null);
  updateAdapterEvaluation(db, parentId, {}, beforeRuns);
  updateAdapterEvaluation(db, candidate.id, gateNumbers, afterRuns);
  if (gate.promote) {
    promoteAdapter(db, candidate.id, gate.reason);
    r.decision = 'promoted';
  } else {
    rejectAdapter(db, candidate.id, gate.reason);
    r.decision = 'rejected';
  }
  r.reason = gate.reason;
  return r;
}

function compactSuite(s: SuiteSummary): Record<string, unknown> {
  return { suite: s.suite, role: s.role, metric: s.metric, samples: s.samples, before: s.before, after: s.after, delta: s.delta, ok: s.ok };
}

/** Round 1: the --from-eval runs. Later rounds: the same suites evaluated again with the new adapter. */
async function harvestRuns(round: number, parentId: string, o: LearnOptions, deps: LearnDeps, evaluate: Evaluate): Promise<string[]> {
  if (round === 1) return o.fromEval;
  const runs: string[] = [];
  for (const run of o.fromEval) {
    const row = deps.db.prepare('SELECT config FROM runs WHERE id = ?').get(run) as { config: string };
    const c = JSON.parse(row.config) as { suite?: string };
    if (!c.suite) continue;
    const r = await evaluate(parentId, { name: c.suite, role: 'regression' });
    if (r.evalRun) runs.push(r.evalRun);
  }
  return runs;
}

/** Feedback ids that a promoted round (of any learn run) trained on. */
function learnedFeedback(db: Db): Set<number> {
  const out = new Set<number>();
  for (const row of listLearnRounds(db)) {
    if (row.decision !== 'promoted') continue;
    const s = JSON.parse(row.summary) as Partial<RoundSummary>;
    for (const id of s.feedback?.trained ?? []) out.add(id);
  }
  return out;
}

/** Training files of promoted rounds: their hard examples join the replay pool. */
function earlierRoundData(db: Db): string[] {
  return listLearnRounds(db)
    .filter((row) => row.decision === 'promoted')
    .map((row) => (JSON.parse(row.summary) as Partial<RoundSummary>).examples?.data ?? null)
    .filter((x): x is string => x !== null);
}

function updateSettings(config: FinesecConfig, o: LearnOptions, round: number): TrainSettings {
  const t = config.train;
  return {
    full: false,
    rank: t.lora.rank,
    alpha: t.lora.alpha,
    dropout: t.lora.dropout,
    targets: t.lora.targets as LoraTarget[],
    rsLora: t.lora.rslora,
    lr: o.lr ?? t.lr,
    weightDecay: 0,
    clip: 1,
    warmup: Math.min(t.warmup, Math.floor(o.maxSteps / 4)),
    schedule: t.schedule,
    batchTokens: t.batch_tokens,
    accum: t.accum,
    seqLen: t.seq_len,
    // A hard case longer than seq_len still teaches its beginning (the verdict comes first).
    long: 'truncate',
    epochs: 1,
    maxSteps: o.maxSteps,
    seed: o.seed + round,
  };
}

function suiteSample(s: Sample): SuiteSample {
  return { id: s.id, code: s.code, language: s.language, label: s.label as 0 | 1, cwes: s.cwes, flaw_lines: s.flaw_lines, pair_id: s.pair_id, lines: codeLines(s.code).length };
}
