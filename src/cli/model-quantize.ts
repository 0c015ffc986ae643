import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { requireStr, type CommandSpec } from './command.js';
import { UsageError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { quantizeModelQ8_0 } from '../engine/gguf/quantize-model.js';

export const command: CommandSpec = {
  name: 'model quantize',
  summary: 'convert a GGUF model\'s F32/F16/BF16 weight matrices to Q8_0 (norms and biases stay F32)',
  positionals: 'IN',
  description:
    'Follows llama.cpp\'s rules: 2-D tensors named *weight except norms become Q8_0 (rows that are not a multiple ' +
    'of 32 become F16); everything else is copied. Sets general.file_type to MOSTLY_Q8_0.',
  options: {
    type: { type: 'string', help: 'target type', choices: ['q8_0'], default: 'q8_0' },
    out: { type: 'string', help: 'output GGUF file (required)', arg: 'FILE' },
  },
  async run(ctx) {
    const input = ctx.positionals[0];
    if (!input || ctx.positionals.length > 1) throw new UsageError('model quantize: expects exactly one input FILE (see finesec model quantize --help)');
    const out = requireStr(ctx.args, 'model quantize', 'out');
    mkdirSync(dirname(out), { recursive: true });
    const progress = new Progress(ctx.logger, 'quantize', undefined, 'tensors');
    const summary = quantizeModelQ8_0(input, out, (done, total) => {
      progress.setTotal(total);
      progress.tick();
    });
    progress.finish();
    ctx.result(
      { input, output: out, type: 'q8_0', ...summary },
      `wrote ${out}: ${summary.quantized} tensors to Q8_0` +
        (summary.fallbackF16 ? `, ${summary.fallbackF16} to F16 (rows not a multiple of 32)` : '') +
        `, ${summary.copied} copied; ${(summary.inputBytes / 1e6).toFixed(2)} MB -> ${(summary.outputBytes / 1e6).toFixed(2)} MB`,
    );
  },
};
