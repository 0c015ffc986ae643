import { existsSync } from 'node:fs';
import { list, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { formatNames, importFormats, loadImporter } from '../corpus/importers/index.js';
import { parseFieldMap } from '../corpus/importers/jsonl.js';
import { renderSummary, runImport } from '../corpus/importers/runner.js';
import type { ImportSettings } from '../corpus/importers/types.js';
import { InputError, UsageError } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'ingest',
  summary: `import a corpus into the knowledge base (${formatNames.join(', ')})`,
  positionals: 'PATH',
  description: [
    'Formats:',
    ...Object.entries(importFormats).map(([name, f]) => `  ${name.padEnd(10)}${f.summary}`),
    '',
    'Exact duplicates (same code after removing comments and whitespace) merge into one sample; every',
    'input row stays recorded as a source. Bad rows and files are skipped with a reason kept in the',
    'knowledge base. Rows are committed in batches of corpus.batch_size: an interrupted import',
    'continues where it stopped when run again, and re-importing the same data adds nothing.',
  ].join('\n'),
  options: {
    format: { type: 'string', help: `input format: ${formatNames.join(', ')}`, arg: 'F' },
    name: { type: 'string', help: 'dataset name in the knowledge base', arg: 'NAME' },
    'group-field': { type: 'string', help: 'primevul, jsonl: row field whose value is the group id (e.g. functional_variant)', arg: 'FIELD' },
    map: { type: 'list', help: 'jsonl: our fields from the row\'s, e.g. code=func,label=target,cwe=cwe', arg: 'K=F,...' },
    limit: { type: 'number', help: 'read at most N units (rows, records, files) in this run', arg: 'N' },
    'max-warnings': { type: 'number', help: 'rejected inputs printed as warnings before the rest are only counted', default: 20, arg: 'N' },
  },
  async run(ctx) {
    const importer = await loadImporter(str(ctx.args, 'format'));
    const path = ctx.positionals[0];
    if (!path) throw new UsageError('ingest: missing PATH (a file or directory to import)');
    if (ctx.positionals.length > 1) throw new UsageError(`ingest: expected one PATH, got ${ctx.positionals.length}`);
    const name = requireStr(ctx.args, 'ingest', 'name');
    const groupField = str(ctx.args, 'group-field');
    const mapEntries = list(ctx.args, 'map');
    if (mapEntries.length > 0 && importer.format !== 'jsonl') throw new UsageError('ingest: --map applies to --format jsonl only');
    if (groupField && importer.format !== 'primevul' && importer.format !== 'jsonl') {
      throw new UsageError('ingest: --group-field applies to --format primevul and jsonl (the other formats set groups themselves)');
    }
    const map = mapEntries.length > 0 ? parseFieldMap(mapEntries) : undefined;
    if (importer.format === 'jsonl' && !map?.code) throw new UsageError('ingest: --format jsonl needs --map code=FIELD (and usually label=FIELD)');
    const limit = requireInt(ctx.args, 'ingest', 'limit', 1);
    const maxWarnings = requireInt(ctx.args, 'ingest', 'max-warnings', 0) ?? 20;
    if (!existsSync(path)) throw new InputError(`${path}: no such file or directory`);

    const ws = openWorkspace(ctx.workspace, { create: true, logger: ctx.logger });
    try {
      const settings: ImportSettings = {
        path,
        dataset: name,
        ...(groupField ? { groupField } : {}),
        ...(map ? { map } : {}),
        ...(limit !== undefined ? { limit } : {}),
        batchSize: ws.config.corpus.batch_size,
        maxFileBytes: ws.config.corpus.max_file_bytes,
        maxFunctionLines: ws.config.corpus.max_function_lines,
      };
      const summary = await runImport(ws.db, importer, settings, ctx.logger, { maxWarnings });
      ctx.result(summary, renderSummary(summary));
    } finally {
      ws.close();
    }
  },
};
