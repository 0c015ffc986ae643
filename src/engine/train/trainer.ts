/**
 * The training loop: reads and tokenizes the examples, builds the model and the adapter, then
 * runs optimizer steps over the token-budget batch stream, with evaluation, metrics
 * (one JSON line per step), a progress line and checkpoints from which --resume continues
 * exactly (same bits as an uninterrupted run, with one thread and the same seed).
 *
 * A checkpoint of step s is written only once the next step's loss came out finite, so
 * the checkpoint on disk is always one whose weights still gave a finite loss: when training
 * diverges (NaN or infinite loss or gradient) it stops there and that checkpoint is the last good one.
 */
import { appendFileSync, createReadStream, existsSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { FinesecError, InputError, UsageError } from '../../util/errors.js';
import { hashJson } from '../../util/hash.js';
import type { Logger } from '../../util/log.js';
import { formatDuration, formatRate, Progress } from '../../util/progress.js';
import type { Kernels } from '../kernels/index.js';
import { createLora, type LoraAdapter } from '../model/lora.js';
import { loadModel, type EngineModel } from '../model/weights.js';
import { adapterFromEngine, engineLoraFromAdapter, readAdapterGguf, writeAdapterGguf } from '../adapter/lora-file.js';
import { exportPeft } from '../adapter/peft.js';
import { readBaseModel } from '../../runtime/adapter-check.js';
import { assembleBatch, BatchStream, packMicroBatches, totalSteps, type TokenizedSequence } from './batching.js';
import { readCheckpoint, writeCheckpoint, type CheckpointHeader } from './checkpoint.js';
import { ChatTokenizer } from './data.js';
import { checkVocabulary, loadExamples, type DataSummary, type LoadedData } from './examples.js';
import { provenance, writeFullModel } from './outputs.js';
import { learningRate } from './schedule.js';
import { checkSettings, settingDifferences, type TrainSettings } from './settings.js';
import {
  accumulateMicroBatch, allFinite, applyUpdate, createTrainState, dropoutSeedFor, evaluateBatch, trainedParams, zeroGrads,
  type TrainState,
} from './step.js';

export type { DataSummary } from './examples.js';

export interface TrainJob {
  base: string;
  data: string;
  /** Output folder: adapter.gguf (or model.gguf in full mode), checkpoint.bin, peft/. */
  out: string;
  settings: TrainSettings;
  evalData?: string;
  /** Evaluate every N steps (0: only before and after). */
  evalEvery: number;
  /** Checkpoint every N steps (0: only at the end). */
  saveEvery: number;
  resume: boolean;
  /**
   * Warm start: begin from this GGUF LoRA adapter instead of a fresh one (A random, B zero). Its rank,
   * alpha, rsLoRA flag and targets replace the settings'; dropout, the optimizer and the data are new.
   */
  initAdapter?: string;
  threads: number;
  exportPeft: boolean;
  /** Where each step's metrics line goes (none: not written). */
  metricsPath?: string;
  logger: Logger;
  kernels?: Kernels;
  /** Each malformed example line (the CLI records it in the knowledge base). */
  onRejection?: (source: string, line: number, reason: string) => void;
}

export interface TrainResult {
  mode: 'lora' | 'full';
  steps: number;
  totalSteps: number;
  resumedFrom: number | null;
  firstLoss: number | null;
  loss: number | null;
  initialEvalLoss: number | null;
  evalLoss: number | null;
  data: DataSummary;
  evalData: DataSummary | null;
  chatFormat: string;
  trainableParameters: number;
  /** LoRA rank of the adapter written (null in full mode). */
  rank: number | null;
  outputs: { adapter?: string; model?: string; checkpoint: string; peft?: string };
  seconds: number;
  tokensPerSecond: number;
}

/** Training stopped because the loss or the gradient stopped being finite. */
export class TrainingDiverged extends FinesecError {
  constructor(
    message: string,
    readonly step: number,
    readonly lastGoodCheckpoint: number | null,
  ) {
    super(message, { kind: 'diverged' });
  }
}

export const CHECKPOINT_FILE = 'checkpoint.bin';
export const ADAPTER_FILE = 'adapter.gguf';
export const MODEL_FILE = 'model.gguf';
export const PEFT_DIR = 'peft';

export async function train(job: TrainJob): Promise<TrainResult> {
  const started = Date.now();
  const s = job.settings;
  checkSettings(s);
  if (!Number.isInteger(job.threads) || job.threads < 1) throw new UsageError(`train: --threads expects a positive integer, got ${job.threads}`);
  const log = job.logger;
  mkdirSync(job.out, { recursive: true });
  const checkpointPath = join(job.out, CHECKPOINT_FILE);
  if (!job.resume && existsSync(checkpointPath)) {
    throw new UsageError(`train: ${checkpointPath} exists: pass --resume to continue that run, or choose another --out`);
  }
  if (job.resume && !existsSync(checkpointPath)) {
    throw new UsageError(`train: --resume, but there is no checkpoint at ${checkpointPath} (train without --resume to start)`);
  }
  const checkpoint = job.resume ? readCheckpoint(checkpointPath) : null;
  readBaseModel(job.base); // a clear error for an adapter or a non-model file, before llama.cpp sees it

  const loadOptions = { seqLen: s.seqLen, long: s.long, logger: log, ...(job.onRejection ? { onRejection: job.onRejection } : {}) };
  const tokenizer = await ChatTokenizer.load(job.base);
  let trainData: LoadedData;
  let evalData: LoadedData | null = null;
  try {
    trainData = await loadExamples(job.data, tokenizer, 'training', loadOptions);
    if (job.evalData) evalData = await loadExamples(job.evalData, tokenizer, 'evaluation', loadOptions);
  } finally {
    await tokenizer.close();
  }
  const sequences = trainData.prepared.sequences;

  const model = loadModel(job.base, { trainable: s.full, ...(job.kernels ? { kernels: job.kernels } : {}) });
  checkVocabulary(model, trainData, job.data);
  if (evalData) checkVocabulary(model, evalData, job.evalData!);
  if (job.initAdapter && s.full) throw new UsageError('train: --init-adapter starts a LoRA from an adapter; it does not apply to --full');
  const lora = s.full ? null : job.initAdapter ? warmStartLora(model, job.initAdapter, s, log) : createLora(model.config, { rank: s.rank, alpha: s.alpha, dropout: s.dropout, targets: s.targets, rsLora: s.rsLora, seed: s.seed });
  const state = createTrainState(model, lora, { weightDecay: s.weightDecay, threads: job.threads, ...(job.kernels ? { kernels: job.kernels } : {}) });
  const stream = new BatchStream(sequences.map((q) => q.tokens.length), { batchTokens: s.batchTokens, seqLen: s.seqLen, seed: s.seed });
  const total = totalSteps(stream, s.accum, { epochs: s.epochs, ...(s.maxSteps !== null ? { maxSteps: s.maxSteps } : {}) });
  const config = {
    format: 1,
    base: { sha256: await fileSha256(job.base) },
    data: { sha256: await fileSha256(job.data), examples: sequences.length, chatFormat: trainData.prepared.chatFormat },
    ...(job.initAdapter ? { initAdapter: { sha256: await fileSha256(job.initAdapter) } } : {}),
    settings: lora ? { ...s, rank: lora.rank, alpha: lora.alpha, rsLora: lora.rsLora, targets: lora.targets } : s,
    totalSteps: total,
  };
  const configHash = hashJson(config);

  let step = 0;
  let lastSaved: number | null = null;
  let lastLoss: number | null = null;
  let lastEval: number | null = null;
  if (checkpoint) {
    restore(state, checkpoint.header, checkpoint.arrays, config, configHash, checkpointPath);
    step = checkpoint.header.step;
    lastSaved = step;
    lastLoss = checkpoint.header.loss;
    lastEval = checkpoint.header.evalLoss;
    log.info(`resuming from ${checkpointPath}: step ${step} of ${total}`);
  }

  const evaluate = (): number | null => (evalData ? meanLoss(state, evalData.prepared.sequences, s.batchTokens, s.seqLen) : null);
  const initialEvalLoss = checkpoint ? null : evaluate();
  if (initialEvalLoss !== null) {
    lastEval = initialEvalLoss;
    log.info(`eval loss before training: ${initialEvalLoss.toFixed(4)}`);
    writeMetrics(job, { step: 0, eval_loss: initialEvalLoss });
  }

  const saveCheckpoint = (atStep: number): void => {
    const position = stream.at(atStep * s.accum);
    const header: Omit<CheckpointHeader, 'arrays'> = {
      step: atStep, totalSteps: total, nextMicroBatch: atStep * s.accum, epoch: position.epoch, indexInEpoch: position.indexInEpoch,
      seed: s.seed, configHash, config, loss: lastLoss, evalLoss: lastEval,
    };
    writeCheckpoint(checkpointPath, header, [
      ['params', trainedParams(state)],
      ['adam.m', state.optimizer.m],
      ['adam.v', state.optimizer.v],
    ]);
    lastSaved = atStep;
    log.info(`saved checkpoint at step ${atStep} (${checkpointPath})`);
  };

  const progress = new Progress(log, 'train', total - step, 'steps');
  let tokensSeen = 0;
  let firstLoss: number | null = null;
  let pendingSave = false;
  const loopStarted = Date.now();
  const diverged = (at: number, what: string): TrainingDiverged => {
    progress.finish();
    writeMetrics(job, { step: at, diverged: what });
    const kept = lastSaved === null
      ? 'no checkpoint had been saved'
      : `the last good checkpoint is step ${lastSaved} in ${checkpointPath}`;
    return new TrainingDiverged(`training diverged at step ${at}: ${what}; stopped before applying it, ${kept} (lower --lr or set --clip)`, at, lastSaved);
  };

  while (step < total) {
    const current = step + 1;
    const micro = Array.from({ length: s.accum }, (_, i) => (current - 1) * s.accum + i);
    const batches = micro.map((index) => assembleBatch(stream.at(index).batch, sequences));
    const counted = batches.reduce((n, b) => n + b.count, 0);
    zeroGrads(state);
    let sum = 0;
    batches.forEach((batch, i) => {
      const r = accumulateMicroBatch(state, batch, 1 / counted, dropoutSeedFor(s.seed, micro[i]!), (l) => {
        if (!Number.isFinite(l.sum)) throw diverged(current, `the loss is ${l.sum}`);
      });
      sum += r.sum;
      tokensSeen += batch.realTokens;
    });
    // The weights after the previous step gave a finite loss on this whole step: now its checkpoint
    // can be written (the update below has not touched them yet).
    if (pendingSave) {
      pendingSave = false;
      saveCheckpoint(step);
    }
    const loss = sum / counted;
    const lr = learningRate({ kind: s.schedule, lr: s.lr, warmup: s.warmup, total }, current);
    const clip = applyUpdate(state, lr, s.clip);
    if (!Number.isFinite(clip.norm)) throw diverged(current, `the gradient norm is ${clip.norm}`);
    step = current;
    lastLoss = loss;
    firstLoss ??= loss;
    const elapsed = (Date.now() - loopStarted) / 1000;
    const tokensPerSecond = elapsed > 0 ? tokensSeen / elapsed : 0;
    const metrics: Record<string, unknown> = {
      step, loss, lr, grad_norm: clip.norm, clipped: clip.clipped, trained_tokens: counted, tokens: tokensSeen,
      tokens_per_s: Math.round(tokensPerSecond), epoch: stream.at((current - 1) * s.accum).epoch, elapsed_s: Math.round(elapsed * 1000) / 1000,
    };
    if (evalData && job.evalEvery > 0 && step % job.evalEvery === 0 && step < total) {
      lastEval = evaluate();
      metrics.eval_loss = lastEval;
      log.info(`step ${step}/${total}: loss ${loss.toFixed(4)}, eval loss ${lastEval!.toFixed(4)}`);
    }
    writeMetrics(job, metrics);
    progress.setExtra(() => `loss ${loss.toFixed(4)} | ${formatRate(tokensPerSecond)} tok/s`);
    progress.tick();
    if (job.saveEvery > 0 && step % job.saveEvery === 0 && step < total) pendingSave = true;
  }
  progress.finish();

  const params = trainedParams(state);
  if (!allFinite(params)) throw diverged(step, 'the weights are no longer finite');
  const finalEval = evalData ? evaluate() : null;
  if (finalEval !== null) {
    lastEval = finalEval;
    writeMetrics(job, { step, eval_loss: finalEval });
  }
  if (lastSaved !== step) saveCheckpoint(step);

  const outputs: TrainResult['outputs'] = { checkpoint: checkpointPath };
  if (lora) {
    const adapter = adapterFromEngine(lora, model.config.arch);
    outputs.adapter = join(job.out, ADAPTER_FILE);
    writeAdapterGguf(outputs.adapter, adapter, provenance(job.base, s.seed, total));
    if (job.exportPeft) {
      outputs.peft = join(job.out, PEFT_DIR);
      exportPeft(adapter, model.config, outputs.peft, { baseModelName: basename(job.base), baseName: basename(job.base), source: outputs.adapter });
    }
  } else {
    outputs.model = join(job.out, MODEL_FILE);
    writeFullModel(model, job.base, outputs.model);
  }
  const seconds = (Date.now() - started) / 1000;
  const loopSeconds = (Date.now() - loopStarted) / 1000;
  log.info(`trained ${step} steps in ${formatDuration(seconds)}${lastLoss !== null ? `: loss ${lastLoss.toFixed(4)}` : ''}${finalEval !== null ? `, eval loss ${finalEval.toFixed(4)}` : ''}`);
  return {
    mode: lora ? 'lora' : 'full',
    steps: step,
    totalSteps: total,
    resumedFrom: checkpoint ? checkpoint.header.step : null,
    firstLoss,
    loss: lastLoss,
    initialEvalLoss,
    evalLoss: lastEval,
    data: trainData.summary,
    evalData: evalData?.summary ?? null,
    chatFormat: trainData.prepared.chatFormat,
    trainableParameters: params.length,
    rank: lora ? lora.rank : null,
    outputs,
    seconds,
    tokensPerSecond: loopSeconds > 0 ? tokensSeen / loopSeconds : 0,
  };
}

/** Mean loss over every trained token of a set, in a fixed order. */
function meanLoss(state: TrainState, sequences: TokenizedSequence[], batchTokens: number, seqLen: number): number {
  const order = sequences.map((_, i) => i);
  let sum = 0;
  let count = 0;
  for (const batch of packMicroBatches(sequences.map((q) => q.tokens.length), order, { batchTokens, seqLen, seed: 0 })) {
    const r = evaluateBatch(state, assembleBatch(batch, sequences));
    sum += r.sum;
    count += r.count;
  }
  return count > 0 ? sum / count : 0;
}

function restore(
  state: TrainState, header: CheckpointHeader, arrays: Map<string, Float32Array>, config: { settings: TrainSettings } & Record<string, unknown>,
  configHash: string, path: string,
): void {
  if (header.configHash !== configHash) {
    const saved = header.config as { settings?: Record<string, unknown>; base?: unknown; data?: unknown; totalSteps?: unknown };
    const reasons = settingDifferences(saved.settings ?? {}, config.settings);
    if (JSON.stringify(saved.base) !== JSON.stringify(config.base)) reasons.push('--base is a different model file (wrong base model?)');
    if (JSON.stringify(saved.data) !== JSON.stringify(config.data)) reasons.push('--data differs (file content, example count or chat format)');
    if (reasons.length === 0 && saved.totalSteps !== config.totalSteps) reasons.push(`total steps ${String(config.totalSteps)} (checkpoint: ${String(saved.totalSteps)})`);
    throw new InputError(`${path}: checkpoint was written by a different run: ${reasons.join('; ') || 'configuration differs'}. Resume with the same settings, or train without --resume into another --out`);
  }
  const params = trainedParams(state);
  const get = (name: string, length: number): Float32Array => {
    const a = arrays.get(name);
    if (!a || a.length !== length) throw new InputError(`${path}: checkpoint array ${name} is missing or has the wrong size; train again without --resume`);
    return a;
  };
  params.set(get('params', params.length));
  state.optimizer.restore(get('adam.m', state.optimizer.size), get('adam.v', state.optimizer.size), header.step);
}

function writeMetrics(job: TrainJob, line: Record<string, unknown>): void {
  if (!job.metricsPath) return;
  mkdirSync(dirname(job.metricsPath), { recursive: true });
  appendFileSync(job.metricsPath, JSON.stringify(line) + '\n');
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A trainable LoRA holding an existing adapter's A and B (its shape wins over the settings'). */
function warmStartLora(model: EngineModel, path: string, s: TrainSettings, log: Logger): LoraAdapter {
  const loaded = engineLoraFromAdapter(model, readAdapterGguf(path), path);
  const lora = createLora(model.config, {
    rank: loaded.rank, alpha: loaded.alpha, rsLora: loaded.rsLora, targets: loaded.targets, dropout: s.dropout, seed: s.seed,
  });
  lora.params.set(loaded.params);
  const differs = lora.rank !== s.rank || lora.alpha !== s.alpha || lora.rsLora !== s.rsLora || lora.targets.join() !== s.targets.join();
  log.info(
    `warm start from ${path}: rank ${lora.rank}, alpha ${lora.alpha}${lora.rsLora ? ' (rsLoRA)' : ''}, targets ${lora.targets.join(',')}` +
      (differs ? ' (taken from the adapter, not from the settings)' : ''),
  );
  return lora;
}
