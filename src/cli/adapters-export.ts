import { basename } from 'node:path';
import { requireStr, str, type CommandSpec } from './command.js';
import { UsageError } from '../util/errors.js';
import { writeAdapterGguf } from '../engine/adapter/lora-file.js';
import { exportPeft } from '../engine/adapter/peft.js';
import { readAdapterSource, readBaseConfig } from '../engine/adapter/source.js';

const CMD = 'adapters export';

export const command: CommandSpec = {
  name: CMD,
  summary: 'write an adapter (GGUF LoRA or training checkpoint) as llama.cpp GGUF LoRA or as a PEFT folder',
  positionals: 'SOURCE',
  description: [
    'SOURCE is a GGUF LoRA adapter or a finesec checkpoint.bin (then --base is the model it was trained on).',
    'PEFT output is a folder with adapter_config.json and adapter_model.safetensors using Hugging Face module names;',
    'for llama, the Q/K row order llama.cpp uses is turned back into Hugging Face\'s.',
  ].join('\n'),
  options: {
    format: { type: 'string', help: 'output format', choices: ['gguf', 'peft'], default: 'gguf' },
    out: { type: 'string', help: 'output file (gguf) or folder (peft) (required)', arg: 'PATH' },
    base: { type: 'string', help: 'base model GGUF (needed for peft and for a checkpoint SOURCE)', arg: 'FILE' },
    'base-name': { type: 'string', help: 'base_model_name_or_path written to adapter_config.json (default: the --base file name)', arg: 'NAME' },
  },
  async run(ctx) {
    const source = ctx.positionals[0];
    if (!source || ctx.positionals.length > 1) throw new UsageError(`${CMD}: expects exactly one SOURCE (see finesec ${CMD} --help)`);
    const out = requireStr(ctx.args, CMD, 'out');
    const format = str(ctx.args, 'format') as 'gguf' | 'peft';
    const base = str(ctx.args, 'base');
    if (format === 'peft' && !base) throw new UsageError(`${CMD}: --format peft needs --base (the base model: head counts and shapes)`);
    const adapter = readAdapterSource(source, base);
    if (format === 'gguf') {
      writeAdapterGguf(out, adapter);
    } else {
      const c = readBaseConfig(base!);
      exportPeft(adapter, c, out, { baseModelName: str(ctx.args, 'base-name') ?? basename(base!), baseName: basename(base!), source });
    }
    const pairs = adapter.pairs.length;
    ctx.result(
      { source, format, out, pairs, rank: adapter.pairs[0]!.rank, alpha: adapter.alpha, rsLora: adapter.rsLora },
      `wrote ${out} (${format}): ${pairs} LoRA pairs, rank ${adapter.pairs[0]!.rank}, alpha ${adapter.alpha}${adapter.rsLora ? ', rsLoRA' : ''}`,
    );
  },
};
