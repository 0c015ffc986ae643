import { join, resolve } from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { bool, list, num, requireInt, requireStr, str, type CommandSpec, type OptionValues } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import type { FinesecConfig } from '../config/schema.js';
import { finishRun, startRun } from '../kb/runs.js';
import { recordRejection } from '../kb/rejections.js';
import { errorMessage, UsageError } from '../util/errors.js';
import { LORA_TARGETS, type LoraTarget } from '../engine/model/lora.js';
import { LONG_POLICIES, type LongPolicy } from '../engine/train/data.js';
import { SCHEDULES, type ScheduleKind } from '../engine/train/schedule.js';
import type { TrainSettings } from '../engine/train/settings.js';
import { readCheckpointHeader } from '../engine/train/checkpoint.js';
import { CHECKPOINT_FILE, train, type TrainResult } from '../engine/train/trainer.js';

const CMD = 'train';

export const command: CommandSpec = {
  name: 'train',
  summary: 'fine-tune a GGUF base on chat examples: LoRA over the frozen Q8_0 base (or --full), exact --resume',
  description: [
    'Examples are chat JSONL ({"messages": [...]} per line, as `finesec distill` writes them), rendered with the base',
    'model\'s chat template and tokenized by its own tokenizer through node-llama-cpp; the loss covers the assistant\'s',
    'answers only. Writes OUT/adapter.gguf (llama.cpp LoRA; OUT/model.gguf with --full), OUT/checkpoint.bin and, with',
    '--export-peft, OUT/peft/. Metrics go to WORKSPACE/runs/<id>/metrics.jsonl. Settings without a flag come from',
    'finesec.yaml (train.*); with --resume, from the checkpoint. With one thread and the same seed a resumed run ends',
    'with the same adapter, bit for bit, as an uninterrupted one.',
  ].join('\n'),
  options: {
    base: { type: 'string', help: 'base model GGUF (required)', arg: 'FILE' },
    data: { type: 'string', help: 'training examples, chat JSONL (required)', arg: 'FILE' },
    out: { type: 'string', help: 'output folder (required)', arg: 'DIR' },
    rank: { type: 'number', help: 'LoRA rank (default train.lora.rank)', arg: 'N' },
    alpha: { type: 'number', help: 'LoRA alpha; scale = alpha / rank (default train.lora.alpha)', arg: 'X' },
    dropout: { type: 'number', help: 'LoRA dropout (default train.lora.dropout)', arg: 'P' },
    targets: { type: 'list', help: `LoRA target projections, some of ${LORA_TARGETS.join(',')} (default train.lora.targets)`, arg: 'LIST' },
    rslora: { type: 'boolean', help: 'rank-stabilised LoRA: scale = alpha / sqrt(rank) (default train.lora.rslora)' },
    full: { type: 'boolean', help: 'train every base weight in f32 instead of an adapter (small models, pretraining)' },
    lr: { type: 'number', help: 'peak learning rate (default train.lr)', arg: 'X' },
    'weight-decay': { type: 'number', help: 'AdamW decoupled weight decay (default 0)', arg: 'X' },
    clip: { type: 'number', help: 'clip gradients to this global norm, 0 = off (default 1)', arg: 'X' },
    epochs: { type: 'number', help: 'passes over the data (default train.epochs)', arg: 'N' },
    'max-steps': { type: 'number', help: 'optimizer steps, instead of --epochs', arg: 'N' },
    'batch-tokens': { type: 'number', help: 'token budget of one micro-batch, rows x padded length (default train.batch_tokens)', arg: 'N' },
    accum: { type: 'number', help: 'micro-batches per optimizer step (default train.accum)', arg: 'N' },
    warmup: { type: 'number', help: 'warmup steps (default train.warmup)', arg: 'N' },
    schedule: { type: 'string', help: 'learning-rate decay after warmup (default train.schedule)', choices: SCHEDULES },
    'seq-len': { type: 'number', help: 'longest example in tokens (default train.seq_len)', arg: 'N' },
    long: { type: 'string', help: 'examples longer than --seq-len: skip or truncate (default skip)', choices: LONG_POLICIES },
    seed: { type: 'number', help: 'seed of the LoRA init, data order and dropout (default train.seed)', arg: 'N' },
    threads: { type: 'number', help: 'compute threads (default: threads in finesec.yaml, 1)', arg: 'N' },
    'eval-data': { type: 'string', help: 'held-out chat JSONL: its loss is measured before, during and after training', arg: 'FILE' },
    'eval-every': { type: 'number', help: 'evaluate every N steps (0: only before and after)', default: 0, arg: 'N' },
    'save-every': { type: 'number', help: 'checkpoint every N steps (0: only at the end)', default: 100, arg: 'N' },
    resume: { type: 'boolean', help: 'continue from OUT/checkpoint.bin', default: false },
    'init-adapter': { type: 'string', help: 'warm start: begin from this GGUF LoRA adapter (its rank, alpha and targets) instead of a fresh one', arg: 'FILE' },
    'export-peft': { type: 'boolean', help: 'also write OUT/peft/ (adapter_config.json + adapter_model.safetensors)', default: false },
  },
  async run(ctx) {
    const a = ctx.args;
    const base = requireStr(a, CMD, 'base');
    const data = requireStr(a, CMD, 'data');
    const out = requireStr(a, CMD, 'out');
    if (ctx.positionals.length > 0) throw new UsageError(`train: unexpected argument "${ctx.positionals[0]}" (see finesec train --help)`);
    if (num(a, 'epochs') !== undefined && num(a, 'max-steps') !== undefined) throw new UsageError('train: give --epochs or --max-steps, not both');
    const resume = bool(a, 'resume');
    const ws = openWorkspace(ctx.workspace, { create: true, logger: ctx.logger });
    try {
      const checkpoint = join(out, CHECKPOINT_FILE);
      // Without a checkpoint the trainer says so; here it only supplies settings not given as flags.
      const previous = resume && existsSync(checkpoint) ? (readCheckpointHeader(checkpoint).config as { settings?: TrainSettings }).settings : undefined;
      const settings = resolveSettings(a, ws.config, previous);
      const threads = requireInt(a, CMD, 'threads', 1) ?? ws.config.threads;
      const evalEvery = requireInt(a, CMD, 'eval-every', 0) ?? 0;
      const saveEvery = requireInt(a, CMD, 'save-every', 0) ?? 0;
      const evalData = str(a, 'eval-data');
      const runId = startRun(ws.db, 'train', { settings, threads, evalEvery, saveEvery }, { base: resolve(base), data: resolve(data), evalData: evalData ? resolve(evalData) : null, out: resolve(out), resume });
      const runDir = join(ws.paths.runs, runId);
      mkdirSync(runDir, { recursive: true });
      writeFileSync(join(runDir, 'config.json'), JSON.stringify({ settings, threads, base, data, evalData, out, resume }, null, 2) + '\n');
      let result: TrainResult;
      try {
        result = await train({
          base, data, out, settings, threads, evalEvery, saveEvery, resume,
          ...(evalData ? { evalData } : {}),
          ...(str(a, 'init-adapter') ? { initAdapter: str(a, 'init-adapter')! } : {}),
          exportPeft: bool(a, 'export-peft'),
          metricsPath: join(runDir, 'metrics.jsonl'),
          logger: ctx.logger,
          onRejection: (source, line, reason) => recordRejection(ws.db, { stage: 'train', datasetId: null, source, line, reason }),
        });
      } catch (err) {
        finishRun(ws.db, runId, 'failed', { error: errorMessage(err) });
        throw err;
      }
      finishRun(ws.db, runId, 'done', result);
      ctx.result({ run: runId, ...result }, summaryText(runId, result));
    } finally {
      ws.close();
    }
  },
};

/** Flags first, then (on --resume) the checkpoint's settings, then finesec.yaml. */
function resolveSettings(a: OptionValues, config: FinesecConfig, previous: TrainSettings | undefined): TrainSettings {
  const t = config.train;
  const pick = <T>(flag: T | undefined, saved: T | undefined, fallback: T): T => flag ?? saved ?? fallback;
  const int = (name: string, min: number): number | undefined => requireInt(a, CMD, name, min);
  const targets = list(a, 'targets');
  for (const target of targets) {
    if (!(LORA_TARGETS as readonly string[]).includes(target)) throw new UsageError(`train: unknown --targets entry "${target}" (expected some of ${LORA_TARGETS.join(',')})`);
  }
  const maxSteps = int('max-steps', 1);
  const epochs = num(a, 'epochs');
  const rsLora = a.rslora as boolean | undefined;
  const full = a.full as boolean | undefined;
  return {
    full: pick(full, previous?.full, false),
    rank: pick(int('rank', 1), previous?.rank, t.lora.rank),
    alpha: pick(num(a, 'alpha'), previous?.alpha, t.lora.alpha),
    dropout: pick(num(a, 'dropout'), previous?.dropout, t.lora.dropout),
    targets: pick(targets.length ? (targets as LoraTarget[]) : undefined, previous?.targets, t.lora.targets as LoraTarget[]),
    rsLora: pick(rsLora, previous?.rsLora, t.lora.rslora),
    lr: pick(num(a, 'lr'), previous?.lr, t.lr),
    weightDecay: pick(num(a, 'weight-decay'), previous?.weightDecay, 0),
    clip: pick(num(a, 'clip'), previous?.clip, 1),
    warmup: pick(int('warmup', 0), previous?.warmup, t.warmup),
    schedule: pick(str(a, 'schedule') as ScheduleKind | undefined, previous?.schedule, t.schedule),
    batchTokens: pick(int('batch-tokens', 1), previous?.batchTokens, t.batch_tokens),
    accum: pick(int('accum', 1), previous?.accum, t.accum),
    seqLen: pick(int('seq-len', 2), previous?.seqLen, t.seq_len),
    long: pick(str(a, 'long') as LongPolicy | undefined, previous?.long, 'skip'),
    // --epochs and --max-steps replace each other.
    epochs: epochs ?? previous?.epochs ?? t.epochs,
    maxSteps: maxSteps ?? (epochs !== undefined ? null : (previous?.maxSteps ?? null)),
    seed: pick(int('seed', -(2 ** 31)), previous?.seed, t.seed),
  };
}

function summaryText(runId: string, r: TrainResult): string {
  const fmt = (x: number | null): string => (x === null ? '-' : x.toFixed(4));
  const lines = [
    `train: ${r.steps}/${r.totalSteps} steps (${r.mode}${r.resumedFrom !== null ? `, resumed from step ${r.resumedFrom}` : ''}) in ${r.seconds.toFixed(1)}s, ${Math.round(r.tokensPerSecond)} tokens/s (run ${runId})`,
    `  loss ${fmt(r.firstLoss)} -> ${fmt(r.loss)}${r.evalData ? `; eval loss ${fmt(r.initialEvalLoss)} -> ${fmt(r.evalLoss)}` : ''}`,
    `  data: ${r.data.examples} examples, ${r.data.trainedTokens} trained tokens, ${r.chatFormat} template` +
      (r.data.malformed ? `; ${r.data.malformed} malformed lines skipped` : '') +
      (r.data.skippedLong ? `; ${r.data.skippedLong} too long skipped` : '') +
      (r.data.truncated ? `; ${r.data.truncated} truncated` : ''),
  ];
  if (r.outputs.adapter) lines.push(`  adapter: ${r.outputs.adapter}`);
  if (r.outputs.model) lines.push(`  model: ${r.outputs.model}`);
  if (r.outputs.peft) lines.push(`  peft: ${r.outputs.peft}`);
  lines.push(`  checkpoint: ${r.outputs.checkpoint}`);
  return lines.join('\n');
}
