/**
 * Builds the nano base end to end through the public commands: corpus, tokenizer + random llama
 * (`model init`), pretraining (`train --full`), Q8_0 (`model quantize`), and the card.
 */
import { createReadStream, createWriteStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { runStep } from '../demo/steps.js';
import type { Logger } from '../util/log.js';
import { readMetrics, renderCard } from './card.js';
import { writeCorpus, type CorpusOptions } from './corpus.js';

export interface PretrainOptions extends CorpusOptions {
  /** models/nano: receives nano-q8_0.gguf and CARD.md. */
  out: string;
  /** Intermediate files (corpus, f32 weights, checkpoint, workspace). */
  work: string;
  layers: number;
  embd: number;
  heads: number;
  kvHeads: number;
  ff: number;
  ctx: number;
  vocabSize: number;
  maxSteps: number;
  lr: number;
  warmup: number;
  batchTokens: number;
  seqLen: number;
  threads: number;
  seed: number;
  /** Says so in the card. */
  shortRun: boolean;
  /** The command line that reproduces this run, for the card. */
  command: string;
}

/** The documents' text, one per paragraph, for the tokenizer trainer. */
async function writeTokenizerText(corpus: string, out: string): Promise<void> {
  const lines = createInterface({ input: createReadStream(corpus), crlfDelay: Infinity });
  const w = createWriteStream(out);
  for await (const line of lines) {
    if (!line.trim()) continue;
    const { messages } = JSON.parse(line) as { messages: Array<{ content: string }> };
    for (const m of messages) if (!w.write(`${m.content}\n\n`)) await once(w, 'drain');
  }
  w.end();
  await once(w, 'finish');
}

export async function runPretrain(o: PretrainOptions, logger: Logger): Promise<{ model: string; card: string }> {
  const work = resolve(o.work);
  mkdirSync(work, { recursive: true });
  mkdirSync(o.out, { recursive: true });
  const ws = ['--workspace', join(work, 'workspace')];
  const corpusPath = join(work, 'corpus.jsonl');
  const tokenizerText = join(work, 'tokenizer.txt');
  const initPath = join(work, 'init-f32.gguf');
  const trainDir = join(work, 'train');
  const model = join(o.out, 'nano-q8_0.gguf');

  logger.info(`nano: writing the corpus to ${corpusPath}`);
  const corpus = await writeCorpus(corpusPath, o);
  logger.info(`nano: ${corpus.documents} documents, ${corpus.characters} characters (Juliet ${corpus.juliet})`);
  await writeTokenizerText(corpusPath, tokenizerText);

  const init = (await runStep(logger, [
    'model', 'init', '--arch', 'llama', '--layers', String(o.layers), '--embd', String(o.embd), '--heads', String(o.heads),
    '--kv-heads', String(o.kvHeads), '--ff', String(o.ff), '--ctx', String(o.ctx), '--vocab-size', String(o.vocabSize),
    '--type', 'f32', '--seed', String(o.seed), '--tokenizer-corpus', tokenizerText, '--name', 'finesec-nano', '--out', initPath, ...ws,
  ])) as { parameters: number };

  const trained = (await runStep(logger, [
    'train', '--full', '--base', initPath, '--data', corpusPath, '--out', trainDir, '--max-steps', String(o.maxSteps),
    '--lr', String(o.lr), '--warmup', String(o.warmup), '--schedule', 'cosine', '--batch-tokens', String(o.batchTokens),
    '--seq-len', String(o.seqLen), '--long', 'truncate', '--threads', String(o.threads), '--seed', String(o.seed),
    '--save-every', '200', ...ws,
  ])) as { run: string; steps: number; seconds: number; tokensPerSecond: number; outputs: { model?: string } };

  await runStep(logger, ['model', 'quantize', trained.outputs.model ?? join(trainDir, 'model.gguf'), '--out', model, ...ws]);

  const metrics = readMetrics(join(work, 'workspace', 'runs', trained.run, 'metrics.jsonl'));
  const card = join(o.out, 'CARD.md');
  writeFileSync(
    card,
    renderCard({
      corpus,
      corpusOptions: { synthCount: o.synthCount, synthSeed: o.synthSeed, julietLimit: o.julietLimit },
      shape: { arch: 'llama', layers: o.layers, embd: o.embd, heads: o.heads, 'kv heads': o.kvHeads, ff: o.ff, ctx: o.ctx, vocabulary: o.vocabSize },
      parameters: init.parameters,
      fileBytes: statSync(model).size,
      train: {
        steps: trained.steps, lr: o.lr, batchTokens: o.batchTokens, seqLen: o.seqLen, warmup: o.warmup, threads: o.threads,
        seconds: trained.seconds, tokensPerSecond: trained.tokensPerSecond,
      },
      metrics,
      command: o.command,
      shortRun: o.shortRun,
    }),
  );
  return { model, card };
}
