import { num, str, type CommandSpec } from './command.js';
import { renderDemo, runDemo } from '../demo/pipeline.js';
import { ExitCode } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'demo',
  summary: 'run the whole pipeline offline on embedded defaults (no network, no API key, no GPU)',
  description: 'Runs the public commands in data-flow order in a fresh folder (or --dir) and prints what each produced.',
  options: {
    dir: { type: 'string', help: 'folder for the workspace and outputs (default: a new temporary folder)', arg: 'DIR' },
    count: { type: 'number', help: 'synthetic samples to generate', default: 1200, arg: 'N' },
    seed: { type: 'number', help: 'seed for every random choice', default: 1, arg: 'S' },
    threads: { type: 'number', help: 'CPU threads for model stages', default: 1, arg: 'N' },
    'train-steps': { type: 'number', help: 'optimizer steps of the LoRA training stage', default: 300, arg: 'N' },
    'eval-limit': { type: 'number', help: 'most held-out samples the eval stage looks at (whole pairs)', default: 120, arg: 'N' },
    'max-tokens': { type: 'number', help: 'most tokens a model may write per report', default: 256, arg: 'N' },
    lr: { type: 'number', help: 'peak learning rate of the LoRA stage', default: 3e-3, arg: 'X' },
    tasks: { type: 'string', help: 'distill tasks the student is trained on', default: 'report', arg: 'LIST' },
    base: { type: 'string', help: 'base GGUF to use instead of the bundled nano model (e.g. a real model in Q8_0)', arg: 'FILE' },
  },
  async run(ctx) {
    const result = await runDemo(
      { dir: str(ctx.args, 'dir'), count: num(ctx.args, 'count') ?? 1200, seed: num(ctx.args, 'seed') ?? 1, threads: num(ctx.args, 'threads') ?? 1, trainSteps: num(ctx.args, 'train-steps') ?? 300,
        evalLimit: num(ctx.args, 'eval-limit') ?? 120,
        maxTokens: num(ctx.args, 'max-tokens') ?? 256,
        lr: num(ctx.args, 'lr') ?? 3e-3,
        tasks: str(ctx.args, 'tasks') ?? 'report',
        ...(str(ctx.args, 'base') ? { base: str(ctx.args, 'base')! } : {}),
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
