import { num, str, type CommandSpec } from './command.js';
import { renderDemo, runDemo } from '../demo/pipeline.js';
import { ExitCode } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'demo',
  summary: 'run the whole pipeline offline on embedded defaults (no network, no API key, no GPU)',
  description: 'Runs the public commands in data-flow order in a fresh folder (or --dir) and prints what each produced.',
  options: {
    dir: { type: 'string', help: 'folder for the workspace and outputs (default: a new temporary folder)', arg: 'DIR' },
    count: { type: 'number', help: 'synthetic samples to generate', default: 600, arg: 'N' },
    seed: { type: 'number', help: 'seed for every random choice', default: 1, arg: 'S' },
    threads: { type: 'number', help: 'CPU threads for model stages', default: 1, arg: 'N' },
    'train-steps': { type: 'number', help: 'optimizer steps of the LoRA training stage', default: 60, arg: 'N' },
    'eval-limit': { type: 'number', help: 'most held-out samples the eval stage looks at (whole pairs)', default: 40, arg: 'N' },
    'max-tokens': { type: 'number', help: 'most tokens a model may write per report', default: 256, arg: 'N' },
  },
  async run(ctx) {
    const result = await runDemo(
      { dir: str(ctx.args, 'dir'), count: num(ctx.args, 'count') ?? 600, seed: num(ctx.args, 'seed') ?? 1, threads: num(ctx.args, 'threads') ?? 1, trainSteps: num(ctx.args, 'train-steps') ?? 60,
        evalLimit: num(ctx.args, 'eval-limit') ?? 40,
        maxTokens: num(ctx.args, 'max-tokens') ?? 256,
      },
      ctx.logger,
    );
    ctx.result(
      { ...result, steps: result.steps.map(({ result: _r, ...s }) => s) },
      renderDemo(result),
    );
    return result.steps.some((s) => s.status === 'failed') ? ExitCode.error : ExitCode.ok;
  },
};
