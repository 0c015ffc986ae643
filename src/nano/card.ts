/** models/nano/CARD.md from a pretraining run's facts and its metrics.jsonl. */
import { readFileSync } from 'node:fs';
import type { CorpusStats } from './corpus.js';

export interface MetricsLine {
  step: number;
  loss: number;
  lr: number;
  tokens: number;
  elapsed_s: number;
}

export function readMetrics(path: string): MetricsLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsLine);
}

/** The first step, then about `rows` windows ending on the last step, loss averaged over each window. */
export function lossTable(metrics: readonly MetricsLine[], rows = 20): string[] {
  if (metrics.length === 0) return ['(no steps)'];
  const window = Math.max(1, Math.ceil((metrics.length - 1) / rows));
  const first = metrics[0]!;
  const out = [
    '| step | tokens seen | loss (mean of the window) | lr | elapsed |',
    '|---:|---:|---:|---:|---:|',
    `| ${first.step} | ${first.tokens} | ${first.loss.toFixed(3)} | ${first.lr.toExponential(2)} | ${Math.round(first.elapsed_s)} s |`,
  ];
  for (let start = 1; start < metrics.length; start += window) {
    const slice = metrics.slice(start, start + window);
    const last = slice[slice.length - 1]!;
    const mean = slice.reduce((s, m) => s + m.loss, 0) / slice.length;
    out.push(`| ${last.step} | ${last.tokens} | ${mean.toFixed(3)} | ${last.lr.toExponential(2)} | ${Math.round(last.elapsed_s)} s |`);
  }
  return out;
}

export interface CardFacts {
  corpus: CorpusStats;
  corpusOptions: { synthCount: number; synthSeed: number; julietLimit: number };
  shape: Record<string, number | string>;
  parameters: number;
  fileBytes: number;
  train: { steps: number; lr: number; batchTokens: number; seqLen: number; warmup: number; threads: number; seconds: number; tokensPerSecond: number };
  metrics: MetricsLine[];
  command: string;
  shortRun: boolean;
}

export function renderCard(f: CardFacts): string {
  const last = f.metrics[f.metrics.length - 1];
  const kinds = Object.entries(f.corpus.byKind)
    .filter(([, v]) => v.documents > 0)
    .map(([k, v]) => `| ${k} | ${v.documents} | ${v.characters} |`);
  return [
    '# nano: finesec\'s demonstration base model',
    '',
    'A small llama-architecture model with finesec\'s own byte-level BPE tokenizer (ChatML template),',
    'pretrained from random weights by `finesec train --full` on CPU. **It is a demonstration base**: it',
    'exists so `finesec demo` runs the whole pipeline offline with no download. It knows very little; for real',
    'results fine-tune a real GGUF model (e.g. a Qwen2.5-Coder instruct model quantized to Q8_0) instead.',
    f.shortRun
      ? '\n**This file comes from a short run** (minutes on one thread, see the table below), not the long run the\nscript is meant for; rerun the command under "Reproduce" with a larger --max-steps for a better base.'
      : '',
    '',
    '## Model',
    '',
    `- file: nano-q8_0.gguf (Q8_0, ${(f.fileBytes / 1e6).toFixed(1)} MB), ${(f.parameters / 1e6).toFixed(2)}M parameters`,
    `- shape: ${Object.entries(f.shape).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    '## Corpus',
    '',
    `${f.corpus.documents} documents, ${f.corpus.characters} characters (${(f.corpus.characters / 1e6).toFixed(1)} MB of text), as chat JSONL:`,
    'each document is the answer of a one-turn conversation (the loss covers the document), and the report',
    'documents are the exact conversation the student is asked at run time with the exact JSON it emits.',
    '',
    '| kind | documents | characters |',
    '|---|---:|---:|',
    ...kinds,
    '',
    `- synthetic generator: ${f.corpusOptions.synthCount} samples, seed ${f.corpusOptions.synthSeed} (code; the report as prose: root cause, trigger,`,
    '  impact, remediation; the report as student JSON). The templates are the ones `finesec synth` uses, so an',
    '  evaluation on synthetic data measures a model that has seen these templates (other seeds, other names).',
    '- CWE catalog: the bundled descriptions (src/cwe).',
    `- Juliet C/C++ 1.3 (NIST SARD, public domain): ${f.corpus.juliet === 'used' ? `up to ${f.corpusOptions.julietLimit} functions, code only` : 'not available when this was built'}. The data is never committed.`,
    '',
    '## Training',
    '',
    `- ${f.train.steps} optimizer steps, ${last?.tokens ?? 0} tokens seen, ${Math.round(f.train.seconds)} s on ${f.train.threads} thread(s), ${Math.round(f.train.tokensPerSecond)} tokens/s`,
    `- AdamW, peak lr ${f.train.lr}, warmup ${f.train.warmup}, cosine decay, batch ${f.train.batchTokens} tokens, sequence length ${f.train.seqLen} (longer documents truncated), every weight trained in f32, then quantized to Q8_0`,
    '',
    '### Loss curve',
    '',
    ...lossTable(f.metrics),
    '',
    '## Reproduce',
    '',
    '```',
    f.command,
    '```',
    '',
    'Needs the Juliet JSONL at ../shared/datasets/juliet (optional; without it the corpus is synthetic + CWE only).',
    'The long run is `npm run nano:pretrain` with its defaults (12000 synthetic samples, 20000 Juliet functions,',
    '20000 steps: about 45M tokens, roughly 6 hours on one thread at about 2000 tokens/s); `--threads N` speeds it up.',
    '',
  ].join('\n');
}
