import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { num, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { workspacePaths } from '../config/workspace.js';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { MERGE_TYPES, mergeAdapter, type MergeType } from '../engine/adapter/merge.js';

const CMD = 'adapters merge';

export const command: CommandSpec = {
  name: CMD,
  summary: 'merge a GGUF LoRA adapter into its base: a plain model (Q8_0 by default) that runs with no adapter',
  description: 'Each adapted weight is dequantised, W + scale * alpha / rank * B·A is added in f32, and the result is stored as --type.',
  options: {
    base: { type: 'string', help: 'base model GGUF (required)', arg: 'FILE' },
    lora: { type: 'string', help: 'GGUF LoRA adapter (required)', arg: 'FILE' },
    out: { type: 'string', help: 'merged model GGUF (required)', arg: 'FILE' },
    scale: { type: 'number', help: 'adapter strength, like llama.cpp --lora-scaled', default: 1, arg: 'X' },
    type: { type: 'string', help: 'storage of the weight matrices', choices: MERGE_TYPES, default: 'q8_0' },
    threads: { type: 'number', help: 'compute threads (default: threads in finesec.yaml, 1)', arg: 'N' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`${CMD}: unexpected argument "${ctx.positionals[0]}" (see finesec ${CMD} --help)`);
    const base = requireStr(ctx.args, CMD, 'base');
    const lora = requireStr(ctx.args, CMD, 'lora');
    const out = requireStr(ctx.args, CMD, 'out');
    const threads = requireInt(ctx.args, CMD, 'threads', 1) ?? loadConfig(workspacePaths(ctx.workspace).config).threads;
    mkdirSync(dirname(out), { recursive: true });
    const progress = new Progress(ctx.logger, 'merge', undefined, 'tensors');
    const summary = mergeAdapter(base, lora, out, {
      scale: num(ctx.args, 'scale') ?? 1,
      type: str(ctx.args, 'type') as MergeType,
      threads,
      onTensor: (_done, total) => {
        progress.setTotal(total);
        progress.tick();
      },
    });
    progress.finish();
    ctx.result(
      { base, lora, out, ...summary },
      `wrote ${out}: ${summary.merged} weights merged, ${summary.converted} converted, ${summary.copied} copied (${summary.outputType})`,
    );
  },
};
