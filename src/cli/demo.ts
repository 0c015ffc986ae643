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
  },
  async run(ctx) {
    const result = await runDemo(
      { dir: str(ctx.args, 'dir'), count: num(ctx.args, 'count') ?? 600, seed: num(ctx.args, 'seed') ?? 1, threads: num(ctx.args, 'threads') ?? 1 },
      ctx.logger,
    );
    ctx.result(
      { ...result, steps: result.steps.map(({ result: _r, ...s }) => s) },
      renderDemo(result),
    );
    return result.steps.some((s) => s.status === 'failed') ? ExitCode.error : ExitCode.ok;
  },
};
