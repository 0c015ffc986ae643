import { basename, resolve } from 'node:path';
import { bool, requireStr, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { registerAdapter } from '../learn/registry.js';
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
    register: { type: 'boolean', help: 'also add it to the workspace adapter registry (then eval/scan/learn take adapter:ID)', default: false },
    id: { type: 'string', help: 'registry id with --register (default: generated)', arg: 'ID' },
  },
  async run(ctx) {
    const dir = ctx.positionals[0];
    if (!dir || ctx.positionals.length > 1) throw new UsageError(`${CMD}: expects exactly one PEFT_DIR (see finesec ${CMD} --help)`);
    const base = requireStr(ctx.args, CMD, 'base');
    const out = requireStr(ctx.args, CMD, 'out');
    const c = modelConfig(readBaseModel(base));
    const adapter = importPeft(dir, c, basename(base));
    if (str(ctx.args, 'id') !== undefined && !bool(ctx.args, 'register')) throw new UsageError(`${CMD}: --id names the registry entry; it needs --register`);
    writeAdapterGguf(out, adapter);
    let registered: string | null = null;
    if (bool(ctx.args, 'register')) {
      const ws = openWorkspace(ctx.workspace, { create: true, logger: ctx.logger });
      try {
        const id = str(ctx.args, 'id');
        registered = registerAdapter(ws, { file: out, base, ...(id ? { id } : {}), note: `imported from PEFT ${resolve(dir)}` }).id;
      } finally {
        ws.close();
      }
    }
    ctx.result(
      { source: dir, out, pairs: adapter.pairs.length, alpha: adapter.alpha, rsLora: adapter.rsLora, registered },
      `wrote ${out}: ${adapter.pairs.length} LoRA pairs from ${dir} (alpha ${adapter.alpha}${adapter.rsLora ? ', rsLoRA' : ''})` +
        (registered ? `\nregistered as adapter ${registered} (use --model adapter:${registered})` : ''),
    );
  },
};
