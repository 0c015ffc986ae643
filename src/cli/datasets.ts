import type { CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { listDatasets } from '../kb/datasets.js';
import { renderDatasetList, summarizeDataset } from '../corpus/stats.js';

export const command: CommandSpec = {
  name: 'datasets',
  summary: 'list the datasets: format, samples, rows read, labels, splits',
  options: {},
  async run(ctx) {
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const rows = listDatasets(ws.db).map((d) => summarizeDataset(ws.db, d));
      ctx.result({ datasets: rows }, renderDatasetList(rows));
    } finally {
      ws.close();
    }
  },
};
