import { bool, list, num, str, requireInt, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { getCwe } from '../cwe/index.js';
import { selectTemplates, supportedCwes, templates } from '../corpus/synth/index.js';
import { renderSynthResult, runSynth } from '../corpus/synth/run.js';
import { UsageError } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'synth',
  summary: 'generate paired vulnerable/fixed C/C++ functions with ground-truth reports from templates',
  description: [
    'Each pair comes from one template (a weakness written by us), with random identifiers, types, sizes,',
    'data source (parameter, stdin, environment, socket, file, constant), control-flow wrapper and',
    'language. The vulnerable sample carries a grounded report (CWE, fragment, lines, evidence, fix);',
    'the fixed one a not-vulnerable report. The same --seed gives byte-identical output. An odd --count',
    'ends with one vulnerable sample whose fixed twin is left out.',
    '',
    'Samples go into the knowledge base as dataset --name (format synth; group id = template + wrapper,',
    'so group splits keep near-identical siblings together) and/or to a JSONL file with --out.',
    '--list shows the templates and their CWEs.',
  ].join('\n'),
  options: {
    count: { type: 'number', help: 'number of samples (pairs stay together)', default: 1000, arg: 'N' },
    seed: { type: 'number', help: 'seed of the generator', default: 1, arg: 'S' },
    cwe: { type: 'list', help: 'only these CWEs, e.g. CWE-121,CWE-476', multiple: true, arg: 'IDS' },
    name: { type: 'string', help: 'dataset name in the knowledge base', arg: 'NAME' },
    out: { type: 'string', help: 'also (or only) write the samples to this JSONL file', arg: 'FILE' },
    list: { type: 'boolean', help: 'list the templates and the CWEs they cover, then exit', default: false },
  },
  async run(ctx) {
    if (bool(ctx.args, 'list')) {
      const rows = templates.map((t) => ({ template: t.id, cwe: t.cwe, name: getCwe(t.cwe)?.name ?? t.cwe, languages: t.languages, summary: t.summary }));
      ctx.result(
        { cwes: supportedCwes(), templates: rows },
        [`${rows.length} templates over ${supportedCwes().length} CWEs:`, ...rows.map((r) => `  ${r.cwe.padEnd(8)} ${r.template.padEnd(24)} ${r.summary}`)].join('\n'),
      );
      return;
    }
    const count = requireInt(ctx.args, 'synth', 'count', 1)!;
    const seed = num(ctx.args, 'seed')!;
    if (!Number.isSafeInteger(seed)) throw new UsageError(`synth: --seed expects an integer, got ${seed}`);
    const cwes = list(ctx.args, 'cwe');
    selectTemplates(cwes);
    const name = str(ctx.args, 'name');
    const out = str(ctx.args, 'out');
    if (!name && !out) throw new UsageError('synth: give --name NAME (a knowledge-base dataset) and/or --out FILE.jsonl');

    const ws = name ? openWorkspace(ctx.workspace, { create: true, logger: ctx.logger }) : undefined;
    try {
      const result = runSynth({
        count,
        seed,
        ...(cwes.length ? { cwes } : {}),
        ...(ws ? { db: ws.db, dataset: name } : {}),
        ...(out ? { out } : {}),
        batchSize: ws?.config.corpus.batch_size ?? 1000,
        logger: ctx.logger,
      });
      ctx.result(result, renderSynthResult(result));
    } finally {
      ws?.close();
    }
  },
};
