import { basename } from 'node:path';
import { requireStr, type CommandSpec } from './command.js';
import { UsageError } from '../util/errors.js';
import { readBaseModel } from '../runtime/adapter-check.js';
import { writeAdapterGguf } from '../engine/adapter/lora-file.js';
import { importPeft } from '../engine/adapter/peft.js';
import { modelConfig } from '../engine/model/config.js';

const CMD = 'adapters import';

export const command: CommandSpec = {
  name: CMD,
  summary: 'convert a PEFT LoRA folder (TRL, axolotl, LLaMA-Factory) to a llama.cpp GGUF adapter for a base',
  positionals: 'PEFT_DIR',
  description: [
    'PEFT_DIR holds adapter_config.json and adapter_model.safetensors (F32, F16 or BF16). Every A/B pair is checked',
    'against --base (architecture, layers, shapes); for llama, lora_B rows of q_proj/k_proj are permuted to llama.cpp\'s',
    'Q/K layout. rsLoRA adapters keep their scale (the GGUF alpha becomes alpha * sqrt(r)).',
  ].join('\n'),
  options: {
    base: { type: 'string', help: 'base model GGUF the adapter was trained for (required)', arg: 'FILE' },
    out: { type: 'string', help: 'output GGUF adapter (required)', arg: 'FILE' },
  },
  async run(ctx) {
    const dir = ctx.positionals[0];
    if (!dir || ctx.positionals.length > 1) throw new UsageError(`${CMD}: expects exactly one PEFT_DIR (see finesec ${CMD} --help)`);
    const base = requireStr(ctx.args, CMD, 'base');
    const out = requireStr(ctx.args, CMD, 'out');
    const c = modelConfig(readBaseModel(base));
    const adapter = importPeft(dir, c, basename(base));
    writeAdapterGguf(out, adapter);
    ctx.result(
      { source: dir, out, pairs: adapter.pairs.length, alpha: adapter.alpha, rsLora: adapter.rsLora },
      `wrote ${out}: ${adapter.pairs.length} LoRA pairs from ${dir} (alpha ${adapter.alpha}${adapter.rsLora ? ', rsLoRA' : ''})`,
    );
  },
};
