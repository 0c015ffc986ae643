import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CommandSpec } from './command.js';
import { readResults, resultLine } from '../eval/results.js';
import { renderReportHtml } from '../eval/report-html.js';
import { renderSummary } from '../eval/summary-md.js';
import { InputError, UsageError } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'report',
  summary: 're-render summary.md and report.html of an eval run from its results.json',
  positionals: 'RUN_DIR',
  description: 'RUN_DIR is the directory `finesec eval` wrote (or its results.json). Nothing is re-evaluated.',
  options: {},
  async run(ctx) {
    const arg = ctx.positionals[0];
    if (!arg || ctx.positionals.length > 1) throw new UsageError('report: expected one RUN_DIR (see finesec report --help)');
    const target = resolve(arg);
    if (!existsSync(target)) throw new InputError(`${arg}: no such directory`);
    const isDir = statSync(target).isDirectory();
    const file = isDir ? join(target, 'results.json') : target;
    const dir = isDir ? target : dirname(target);
    if (!existsSync(file)) throw new InputError(`${arg}: no results.json in this directory (is it an eval run directory?)`);
    const results = readResults(file);
    writeFileSync(join(dir, 'summary.md'), renderSummary(results));
    writeFileSync(join(dir, 'report.html'), renderReportHtml(results));
    const lines = results.models.map(resultLine);
    ctx.result(
      { run_id: results.run.id, dir, files: [join(dir, 'summary.md'), join(dir, 'report.html')], result_lines: lines },
      [`wrote summary.md and report.html to ${dir}`, ...lines].join('\n'),
    );
  },
};
