import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { requireStr, str, type CommandSpec } from './command.js';
import { loadConfig } from '../config/load.js';
import { openWorkspace, workspacePaths } from '../config/workspace.js';
import { requireDataset } from '../kb/datasets.js';
import { openKb } from '../kb/db.js';
import { loadExamples } from '../kb/examples.js';
import { InputError, UsageError } from '../util/errors.js';
import { exportExamples, type RunSummaries } from '../distill/export/export.js';
import { EXPORT_FORMATS, type ExportFormat } from '../distill/export/formats.js';
import { formatProblems, readDistilledExamples } from '../distill/read-examples.js';
import { runSummary } from '../distill/kb-stats.js';
import type { SplitSelection } from '../distill/select.js';
import type { ExampleLine } from '../distill/types.js';

export const command: CommandSpec = {
  name: 'export',
  summary: 'write distilled examples for another trainer (messages, sharegpt, alpaca, TRL, axolotl, LLaMA-Factory) with its config and a data card',
  description: [
    'Examples come from a distill JSONL (--from) or from a dataset\'s examples in the knowledge base (--dataset).',
    'Trainer configs carry finesec.yaml\'s LoRA and training settings and an 8-bit base; set the Hugging Face base',
    'model with --base-model (otherwise a placeholder to replace). Run the trainer from the export folder.',
  ].join('\n'),
  options: {
    format: { type: 'string', help: 'output format', choices: EXPORT_FORMATS, arg: 'FORMAT' },
    out: { type: 'string', help: 'output folder', arg: 'DIR' },
    from: { type: 'string', help: 'distill JSONL to export', arg: 'FILE' },
    dataset: { type: 'string', help: 'export this dataset\'s examples from the knowledge base', arg: 'NAME' },
    split: { type: 'string', help: 'with --dataset: the distilled selection', default: 'train', choices: ['train', 'valid', 'test', 'all'] },
    'base-model': { type: 'string', help: 'Hugging Face model id or path written into trainer configs', arg: 'ID' },
    template: { type: 'string', help: 'LLaMA-Factory chat template name', default: 'qwen', arg: 'NAME' },
    name: { type: 'string', help: 'dataset name in LLaMA-Factory\'s dataset_info.json', default: 'finesec', arg: 'NAME' },
  },
  async run(ctx) {
    const format = requireStr(ctx.args, 'export', 'format') as ExportFormat;
    const outDir = requireStr(ctx.args, 'export', 'out');
    const from = str(ctx.args, 'from');
    const datasetName = str(ctx.args, 'dataset');
    if ((from === undefined) === (datasetName === undefined)) throw new UsageError('export: give exactly one of --from FILE and --dataset NAME');
    const paths = workspacePaths(ctx.workspace);
    const config = loadConfig(paths.config);

    let examples: ExampleLine[];
    let source: string;
    let malformed = 0;
    let runs: RunSummaries = [];
    if (from !== undefined) {
      if (!existsSync(from)) throw new InputError(`${from}: no such file`);
      const read = await readDistilledExamples(from);
      if (read.problems.length > 0) {
        malformed = read.problems.length;
        ctx.logger.warn(`${read.problems.length} of ${read.lines} lines skipped:\n${formatProblems(from, read.problems)}`);
      }
      if (read.examples.length === 0) throw new InputError(`${from}: no valid distilled examples`);
      examples = read.examples;
      source = `file ${resolve(from)}`;
      if (existsSync(paths.kb)) runs = withKb(paths.kb, (db) => distinctRuns(examples).map((id) => runSummary(db, id)).filter((r) => r !== null));
    } else {
      const ws = openWorkspace(ctx.workspace, { create: false });
      try {
        const dataset = requireDataset(ws.db, datasetName!);
        const selection = str(ctx.args, 'split') as SplitSelection;
        examples = loadExamples(ws.db, dataset.id, selection);
        if (examples.length === 0) throw new InputError(`dataset "${dataset.name}" has no distilled examples for ${selection} (run finesec distill first)`);
        source = `dataset ${dataset.name} (${selection}) in ${ws.paths.kb}`;
        runs = distinctRuns(examples).map((id) => runSummary(ws.db, id)).filter((r) => r !== null);
      } finally {
        ws.close();
      }
    }
    const summary = exportExamples({
      format,
      outDir,
      examples,
      config,
      source,
      runs,
      malformed,
      ...(str(ctx.args, 'base-model') ? { baseModel: str(ctx.args, 'base-model')! } : {}),
      template: str(ctx.args, 'template')!,
      datasetName: str(ctx.args, 'name')!,
    });
    ctx.result({ ...summary, malformed }, `export: ${summary.examples} examples as ${format} in ${summary.dir}: ${[...summary.files].join(', ')}`);
  },
};

function distinctRuns(examples: ExampleLine[]): string[] {
  return [...new Set(examples.map((e) => e.run_id))];
}

function withKb<T>(path: string, fn: (db: ReturnType<typeof openKb>) => T): T {
  const db = openKb(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
