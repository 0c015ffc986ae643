import { requireInt, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { requireDataset } from '../kb/datasets.js';
import { nearDupSettings } from '../corpus/dedup.js';
import { datasetStats, renderDatasetStats } from '../corpus/stats.js';
import { UsageError } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'dataset stats',
  summary: 'statistics of one dataset: labels, CWEs, splits, languages, duplicates, code lengths',
  positionals: 'NAME',
  description: 'Code lengths are percentiles (nearest rank) over distinct samples, in lines and characters.',
  options: {
    top: { type: 'number', help: 'how many of the most frequent CWEs to list', default: 10, arg: 'N' },
  },
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name || ctx.positionals.length > 1) throw new UsageError('dataset stats: expected one dataset NAME (see finesec dataset stats --help)');
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const dataset = requireDataset(ws.db, name);
      const stats = datasetStats(ws.db, dataset, { topCwes: requireInt(ctx.args, 'dataset stats', 'top', 0) ?? 10, nearDup: nearDupSettings(ws.config) });
      ctx.result(stats, renderDatasetStats(stats));
    } finally {
      ws.close();
    }
  },
};
