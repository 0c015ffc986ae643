import type { CommandSpec } from './command.js';
import { UsageError } from '../util/errors.js';
import { readGguf } from '../engine/gguf/reader.js';
import { describeModel, renderModelInfo } from '../engine/gguf/model-info.js';

export const command: CommandSpec = {
  name: 'model info',
  summary: 'show a GGUF model: architecture, parameters, tensor types, vocabulary, context, chat template',
  positionals: 'FILE',
  description: 'Reads only the header, so it is instant even for large models.',
  options: {},
  async run(ctx) {
    const path = ctx.positionals[0];
    if (!path || ctx.positionals.length > 1) throw new UsageError('model info: expects exactly one FILE (see finesec model info --help)');
    const info = describeModel(readGguf(path));
    ctx.result(info, renderModelInfo(info));
  },
};
