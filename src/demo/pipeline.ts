import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
}

export interface DemoResult {
  dir: string;
  workspace: string;
  steps: StepOutcome[];
  seconds: number;
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
        const r = (await runStep(logger, ['distill', '--dataset', dataset, '--split', 'train', '--out', examples, ...w])) as {
          examples?: number;
          written?: number;
        };
        const n = r.examples ?? r.written;
        return { summary: `${n ?? '?'} chat training examples in ${examples}`, result: r };
      },
    },
    { name: 'train', run: async () => null },
    { name: 'eval', run: async () => null },
    { name: 'learn', run: async () => null },
    { name: 'scan', run: async () => null },
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
  return { dir, workspace: ws, steps: outcomes, seconds: (Date.now() - started) / 1000 };
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
  lines.push(`RESULT demo steps_done=${r.steps.filter((s) => s.status === 'done').length} steps_total=${r.steps.length} seconds=${Math.round(r.seconds)}`);
  return lines.join('\n');
}
