import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { runStep, type StepOutcome } from './steps.js';

export interface DemoOptions {
  /** Workspace and outputs go here; a fresh temporary folder when absent. */
  dir?: string;
  /** Synthetic samples to generate. */
  count: number;
  seed: number;
  threads: number;
  /** Optimizer steps of the LoRA training stage. */
  trainSteps: number;
  /** Most test samples the eval stage looks at (whole pairs). */
  evalLimit: number;
  /** Most tokens a model may write per report. */
  maxTokens: number;
  /** Peak learning rate of the LoRA stage. */
  lr: number;
  /** Distill tasks the student is trained on. */
  tasks: string;
  /** Base GGUF; default the bundled nano base, or a random stand-in when it is not there. */
  base?: string;
}

/** The bundled demonstration base (built by `npm run nano:pretrain`), when this checkout has it. */
export function bundledNanoBase(): string | undefined {
  const path = fileURLToPath(new URL('../../models/nano/nano-q8_0.gguf', import.meta.url));
  return existsSync(path) ? path : undefined;
}

interface EvalSummary {
  out: string;
  models: Array<{ name: string; kind: string; available: boolean; f1: number | null; mcc: number | null; 'P-C': number | null }>;
  result_lines: string[];
}

interface ScanSummary {
  findings?: number;
  stats?: { files?: { scanned?: number }; functions?: { total?: number } };
}

function bundledSampleProject(): string {
  return fileURLToPath(new URL('../../examples/sample-project', import.meta.url));
}

/** A model that never says "vulnerable" has no precision, so no F1 in the metrics; its F1 is taken as 0. */
function formatF1(entry: { available: boolean; f1: number | null } | undefined): string {
  if (!entry || !entry.available) return 'na';
  return (entry.f1 ?? 0).toFixed(3);
}

function describeScan(r: ScanSummary): string {
  return `${r.findings ?? '?'} findings in ${r.stats?.functions?.total ?? '?'} functions of ${r.stats?.files?.scanned ?? '?'} files`;
}

export interface DemoResult {
  dir: string;
  workspace: string;
  steps: StepOutcome[];
  seconds: number;
  /** F1 on the held-out split, when the eval stage ran. */
  f1: { before: string; after: string; flawfinder: string } | null;
  /** Which base the model stages used. */
  baseKind: 'nano' | 'given' | 'random';
}

interface Step {
  name: string;
  /** Returns a one-line summary, or null when the stage is not built yet. */
  run(): Promise<{ summary: string; result?: unknown } | null>;
}

/** The offline pipeline on embedded defaults: every built stage, in data-flow order. */
export async function runDemo(options: DemoOptions, logger: Logger): Promise<DemoResult> {
  const started = Date.now();
  const dir = resolve(options.dir ?? mkdtempSync(join(tmpdir(), 'finesec-demo-')));
  mkdirSync(dir, { recursive: true });
  const ws = join(dir, 'workspace');
  const w = ['--workspace', ws];
  const dataset = 'demo-synth';
  const examples = join(dir, 'examples.jsonl');
  const nano = options.base ? undefined : bundledNanoBase();
  const baseKind: DemoResult['baseKind'] = options.base ? 'given' : nano ? 'nano' : 'random';
  const base = options.base ? resolve(options.base) : (nano ?? join(dir, 'base-q8_0.gguf'));
  const adapterDir = join(dir, 'adapter');
  const adapter = join(adapterDir, 'adapter.gguf');
  const evalDir = join(dir, 'eval');
  const sampleProject = bundledSampleProject();
  let evalSummary: EvalSummary | undefined;

  const steps: Step[] = [
    {
      name: 'synth',
      async run() {
        const r = (await runStep(logger, ['synth', '--count', String(options.count), '--seed', String(options.seed), '--name', dataset, ...w])) as {
          generated: number;
          byCwe: unknown[];
        };
        return { summary: `${r.generated} paired C/C++ samples over ${r.byCwe.length} CWEs, each with a ground-truth report`, result: r };
      },
    },
    {
      name: 'split',
      async run() {
        const r = (await runStep(logger, ['split', dataset, '--by', 'group', '--seed', String(options.seed), ...w])) as {
          counts: Record<string, { total: number }>;
        };
        const check = (await runStep(logger, ['split', dataset, '--check', ...w])) as { clean: boolean };
        return {
          summary: `train ${r.counts.train!.total} / valid ${r.counts.valid!.total} / test ${r.counts.test!.total}, leakage check ${check.clean ? 'clean' : 'FAILED'}`,
          result: { split: r, check },
        };
      },
    },
    {
      name: 'stats',
      async run() {
        const r = (await runStep(logger, ['dataset', 'stats', dataset, ...w])) as { samples: number };
        return { summary: `${r.samples} samples described (labels, CWEs, splits, code lengths)`, result: r };
      },
    },
    {
      name: 'teach',
      async run() {
        const r = (await runStep(logger, ['teach', '--dataset', dataset, '--split', 'train', '--teacher', 'reference', ...w])) as {
          accepted: number;
          rejected: number;
        };
        return { summary: `reference teacher (offline, not an LLM): ${r.accepted} accepted, ${r.rejected} rejected`, result: r };
      },
    },
    {
      name: 'distill',
      async run() {
        const r = (await runStep(logger, ['distill', '--dataset', dataset, '--split', 'train', '--tasks', options.tasks, '--out', examples, ...w])) as {
          examples?: number;
          written?: number;
        };
        const n = r.examples ?? r.written;
        return { summary: `${n ?? '?'} chat training examples in ${examples}`, result: r };
      },
    },
    {
      name: 'base',
      async run() {
        if (baseKind === 'nano') return { summary: `nano demonstration base (Q8_0, pretrained by finesec itself; models/nano/CARD.md) at ${base}` };
        if (baseKind === 'given') return { summary: `given base ${base}` };
        // A checkout without models/nano: a small random llama with our own BPE tokenizer stands in,
        // so every later stage still runs on a real GGUF through the real engine.
        await runStep(logger, [
          'model', 'init', '--arch', 'llama', '--layers', '2', '--embd', '128', '--heads', '4', '--kv-heads', '2',
          '--ff', '256', '--ctx', '2048', '--vocab-size', '2048', '--type', 'q8_0', '--seed', String(options.seed), '--out', base, ...w,
        ]);
        return { summary: `random 2-layer llama base (Q8_0, our BPE tokenizer) at ${base}: a stand-in, not a pretrained model` };
      },
    },
    {
      name: 'train',
      async run() {
        const r = (await runStep(logger, [
          'train', '--base', base, '--data', examples, '--out', adapterDir, '--max-steps', String(options.trainSteps),
          '--lr', String(options.lr), '--seq-len', '1024', '--long', 'truncate', '--threads', String(options.threads), '--seed', String(options.seed), ...w,
        ]));
        return { summary: `LoRA over the Q8_0 base, ${options.trainSteps} steps: ${describeTraining(r)} -> ${adapter}`, result: r };
      },
    },
    {
      name: 'eval',
      async run() {
        const r = (await runStep(logger, [
          'eval', '--suite', `${dataset}:test`, '--model', base, '--name', 'before', '--model', `${base}+${adapter}`, '--name', 'after',
          '--baseline', 'cppcheck,flawfinder', '--limit', String(options.evalLimit), '--max-tokens', String(options.maxTokens),
          '--threads', String(options.threads), '--out', evalDir, ...w,
        ])) as EvalSummary;
        evalSummary = r;
        const f1 = (name: string) => formatF1(r.models.find((m) => m.name === name));
        const others = r.models.map((m) => `${m.name} ${describeBinary(m)}`).join('; ');
        return {
          summary:
            `test split, ${options.evalLimit} samples at most: F1 before ${f1('before')}, after ${f1('after')}, cppcheck ${f1('cppcheck')}, flawfinder ${f1('flawfinder')} ` +
            `(MCC, P-C: ${others}) (report: ${join(evalDir, 'report.html')})`,
          result: r,
        };
      },
    },
    { name: 'learn', run: async () => null },
    {
      name: 'scan',
      async run() {
        const sarif = join(dir, 'sample-project.sarif');
        const md = join(dir, 'sample-project.md');
        const common = ['scan', sampleProject, '--model', `${base}+${adapter}`, '--max-tokens', String(options.maxTokens), '--threads', String(options.threads), ...w];
        // Findings make scan exit 1 (the CI gate); for the demo that is a result, not a failure.
        const r = (await runStep(logger, [...common, '--format', 'sarif', '--out', sarif], { allowExitCodes: [1] })) as ScanSummary;
        await runStep(logger, [...common, '--format', 'md', '--out', md], { allowExitCodes: [1] });
        return { summary: `${describeScan(r)} in the bundled sample project -> ${sarif}, ${md}`, result: r };
      },
    },
  ];

  const outcomes: StepOutcome[] = [];
  let failed = false;
  for (const step of steps) {
    const t0 = Date.now();
    if (failed) {
      outcomes.push({ name: step.name, status: 'skipped', seconds: 0, summary: 'skipped after an earlier failure' });
      continue;
    }
    try {
      const r = await step.run();
      const seconds = (Date.now() - t0) / 1000;
      if (r === null) outcomes.push({ name: step.name, status: 'not built', seconds, summary: 'not built yet' });
      else outcomes.push({ name: step.name, status: 'done', seconds, summary: r.summary, result: r.result });
    } catch (err) {
      failed = true;
      outcomes.push({ name: step.name, status: 'failed', seconds: (Date.now() - t0) / 1000, summary: errorMessage(err) });
    }
  }
  const f1 = evalSummary
    ? {
        before: formatF1(evalSummary.models.find((m) => m.name === 'before')),
        after: formatF1(evalSummary.models.find((m) => m.name === 'after')),
        flawfinder: formatF1(evalSummary.models.find((m) => m.name === 'flawfinder')),
      }
    : null;
  return { dir, workspace: ws, steps: outcomes, seconds: (Date.now() - started) / 1000, f1, baseKind };
}

/** MCC and the share of pairs where both sides are called correctly (P-C): F1 alone rewards "always vulnerable". */
function describeBinary(m: { available: boolean; mcc: number | null; 'P-C': number | null }): string {
  if (!m.available) return 'na';
  const f = (x: number | null): string => (x === null ? 'na' : x.toFixed(3));
  return `MCC ${f(m.mcc)}, P-C ${f(m['P-C'])}`;
}

function describeTraining(r: unknown): string {
  const o = r as { firstLoss?: number; loss?: number; tokensPerSecond?: number };
  if (typeof o.firstLoss !== 'number' || typeof o.loss !== 'number') return 'done';
  const rate = typeof o.tokensPerSecond === 'number' ? `, ${Math.round(o.tokensPerSecond)} tokens/s` : '';
  return `loss ${o.firstLoss.toFixed(3)} -> ${o.loss.toFixed(3)}${rate}`;
}

export function renderDemo(r: DemoResult): string {
  const width = Math.max(...r.steps.map((s) => s.name.length));
  const lines = ['', 'finesec demo: every stage that is built, offline, on embedded defaults', ''];
  for (const s of r.steps) {
    const mark = s.status === 'done' ? 'ok  ' : s.status === 'failed' ? 'FAIL' : s.status === 'not built' ? '--  ' : '..  ';
    lines.push(`  ${mark} ${s.name.padEnd(width)}  ${s.summary}${s.status === 'done' ? ` (${s.seconds.toFixed(1)}s)` : ''}`);
  }
  const missing = r.steps.filter((s) => s.status === 'not built').map((s) => s.name);
  lines.push('');
  if (missing.length) lines.push(`Not built yet: ${missing.join(', ')}. They join the demo as they land.`);
  lines.push(`Workspace: ${r.workspace}`);
  if (r.baseKind === 'random') {
    lines.push(
      'The base here is a random stand-in (models/nano/nano-q8_0.gguf is not in this checkout), so its F1 measures',
      'the pipeline, not a useful student. Use a real GGUF (--base FILE; finesec model quantize makes Q8_0) for real results.',
    );
  } else if (r.baseKind === 'nano') {
    lines.push(
      'The base is nano, a few-million-parameter demonstration model finesec pretrained itself: it shows every stage',
      'working, not a useful auditor. For real results pass a real GGUF model (--base FILE, Q8_0 via finesec model quantize).',
    );
  }
  const f1 = r.f1 ?? { before: 'na', after: 'na', flawfinder: 'na' };
  lines.push(`RESULT demo f1_before=${f1.before} f1_after=${f1.after} f1_flawfinder=${f1.flawfinder} seconds=${Math.round(r.seconds)}`);
  return lines.join('\n');
}
