import { str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { requireDataset } from '../kb/datasets.js';
import { distillStats, renderDistillStats } from '../distill/kb-stats.js';

export const command: CommandSpec = {
  name: 'distill stats',
  summary: 'figures of the distilled examples in the knowledge base: by task, label and CWE, tokens, teachers, prompt versions',
  options: {
    dataset: { type: 'string', help: 'only this dataset', arg: 'NAME' },
  },
  async run(ctx) {
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const name = str(ctx.args, 'dataset');
      const stats = distillStats(ws.db, name ? requireDataset(ws.db, name).id : undefined);
      ctx.result(stats, renderDistillStats(stats));
    } finally {
      ws.close();
    }
  },
};
