import type { CommandSpec } from './command.js';
import { initWorkspace } from '../config/workspace.js';
import { loadConfig } from '../config/load.js';

export const command: CommandSpec = {
  name: 'init',
  summary: 'create a workspace: kb.sqlite, a commented finesec.yaml, runs/, adapters/, exports/',
  positionals: '[DIR]',
  description: 'DIR defaults to --workspace (.finesec). Running it again keeps existing data and checks the config.',
  options: {},
  async run(ctx) {
    const dir = ctx.positionals[0] ?? ctx.workspace;
    const { paths, created } = initWorkspace(dir);
    loadConfig(paths.config);
    ctx.result(
      { workspace: paths.root, kb: paths.kb, config: paths.config, created },
      `${created ? 'created' : 'already initialised'}: ${paths.root}\n  knowledge base: ${paths.kb}\n  config: ${paths.config}`,
    );
  },
};
