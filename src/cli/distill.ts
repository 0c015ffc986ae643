import { bool, list, num, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { UsageError } from '../util/errors.js';
import { distill, type DistillSummary } from '../distill/distill.js';
import { renderFigures } from '../distill/kb-stats.js';
import type { SplitSelection } from '../distill/select.js';
import { DISTILL_TASKS, isDistillTask, type DistillTask } from '../distill/types.js';

export const command: CommandSpec = {
  name: 'distill',
  summary: 'build chat training examples (detect, classify, localize, fragment, explain, reasoning, report) from accepted knowledge',
  description: [
    'Uses accepted knowledge only (one record per sample). Drops every sample whose code is an exact or near duplicate',
    'of a valid/test sample of any dataset in the knowledge base (and of --eval-dataset), balances by CWE and label,',
    'and with --base drops examples longer than --max-tokens under the base model\'s own tokenizer and chat template.',
    'Writes JSONL (messages + metadata) and keeps the examples in the knowledge base for `finesec export`.',
    'Running again with the same inputs and settings does nothing and says so (--force rebuilds).',
  ].join('\n'),
  options: {
    dataset: { type: 'string', help: 'dataset to distill', arg: 'NAME' },
    split: { type: 'string', help: 'samples of this split (all: every sample that is not evaluation data)', default: 'train', choices: ['train', 'valid', 'test', 'all'] },
    out: { type: 'string', help: 'output JSONL file', arg: 'FILE' },
    tasks: { type: 'list', help: `tasks to build (${DISTILL_TASKS.join(',')})`, default: [...DISTILL_TASKS], arg: 'LIST' },
    teacher: { type: 'string', help: 'only knowledge from this teacher id (as stored, e.g. reference)', arg: 'ID' },
    base: { type: 'string', help: 'base model GGUF: count tokens with its tokenizer and drop long examples', arg: 'FILE' },
    'max-tokens': { type: 'number', help: 'longest example kept, in tokens (needs --base; default train.seq_len)', arg: 'N' },
    'cap-per-cwe': { type: 'number', help: 'at most N samples per CWE and label', arg: 'N' },
    'pos-ratio': { type: 'number', help: 'target positives per negative (1: as many of each)', arg: 'R' },
    curriculum: { type: 'boolean', help: 'order by task (detect first, report last), then shorter code first', default: false },
    seed: { type: 'number', help: 'seed for balancing and shuffling (default train.seed)', arg: 'S' },
    'eval-dataset': { type: 'string', help: 'also decontaminate against every sample of this dataset (repeatable)', multiple: true, arg: 'NAME' },
    force: { type: 'boolean', help: 'rebuild even when nothing changed', default: false },
  },
  async run(ctx) {
    const dataset = requireStr(ctx.args, 'distill', 'dataset');
    const out = requireStr(ctx.args, 'distill', 'out');
    const tasks = list(ctx.args, 'tasks');
    const unknown = tasks.filter((t) => !isDistillTask(t));
    if (unknown.length) throw new UsageError(`distill: unknown task ${unknown.join(', ')} (tasks: ${DISTILL_TASKS.join(', ')})`);
    const maxTokens = requireInt(ctx.args, 'distill', 'max-tokens', 1);
    const cap = requireInt(ctx.args, 'distill', 'cap-per-cwe', 1);
    const seedArg = num(ctx.args, 'seed');
    if (seedArg !== undefined && !Number.isInteger(seedArg)) throw new UsageError(`distill: --seed expects an integer, got ${seedArg}`);
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const summary = await distill(
        {
          dataset,
          split: str(ctx.args, 'split') as SplitSelection,
          out,
          tasks: tasks as DistillTask[],
          ...(str(ctx.args, 'teacher') ? { teacher: str(ctx.args, 'teacher')! } : {}),
          ...(str(ctx.args, 'base') ? { base: str(ctx.args, 'base')! } : {}),
          ...(maxTokens !== undefined ? { maxTokens } : {}),
          ...(cap !== undefined ? { capPerCwe: cap } : {}),
          ...(num(ctx.args, 'pos-ratio') !== undefined ? { posRatio: num(ctx.args, 'pos-ratio')! } : {}),
          curriculum: bool(ctx.args, 'curriculum'),
          seed: seedArg ?? ws.config.train.seed,
          evalDatasets: list(ctx.args, 'eval-dataset'),
          force: bool(ctx.args, 'force'),
        },
        { db: ws.db, config: ws.config, logger: ctx.logger },
      );
      ctx.result(summary, summaryText(summary));
    } finally {
      ws.close();
    }
  },
};

function summaryText(s: DistillSummary): string {
  const d = s.decontamination;
  const lines = [
    s.cached
      ? `distill: up to date, nothing rebuilt (run ${s.run})${s.restored ? `; ${s.out} written again from the knowledge base` : ''}`
      : `distill: ${s.written} examples written to ${s.out} (run ${s.run}, ${s.seconds.toFixed(1)}s)`,
    `  knowledge: ${s.selection.records} accepted records used (${s.selection.invalid} invalid, ${s.selection.alternatives} alternatives not used)`,
    `  decontamination: ${d.droppedSamples} samples dropped (${d.exact} exact, ${d.near} near duplicates; ${d.droppedExamples} examples) against ${d.evalSamples} evaluation samples`,
  ];
  for (const m of d.matches.slice(0, 5)) {
    lines.push(`    sample ${m.sample_id}: ${m.kind} duplicate of ${m.matched.dataset} sample ${m.matched.sample_id} (${m.matched.split ?? 'eval dataset'}, similarity ${m.matched.similarity.toFixed(2)})`);
  }
  if (d.matches.length > 5) lines.push(`    ... ${d.droppedSamples - 5} more (see --json)`);
  lines.push(
    `  balancing: ${s.balance.droppedByCap} dropped by the CWE cap, ${s.balance.droppedByRatio} by the ratio; ${s.balance.after.positives} positive, ${s.balance.after.negatives} negative samples`,
    `  built ${s.built} examples; ${s.studentFormDropped} report answers the student's schema cannot express`,
    s.length ? `  length: ${s.length.dropped} examples over ${s.length.maxTokens} tokens dropped (${s.length.chatFormat})` : '  length: not filtered (no --base)',
    ...renderFigures(s.figures),
  );
  return lines.join('\n');
}
