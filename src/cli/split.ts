import { list, num, bool, requireInt, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { requireDataset } from '../kb/datasets.js';
import { nearDupSettings, updateNearDuplicates } from '../corpus/dedup.js';
import { checkLeakage, renderLeakage } from '../corpus/leakage.js';
import { SPLIT_MODES, SPLIT_NAMES, parseRatios, splitDataset, type SplitMode, type SplitResult } from '../corpus/split.js';
import { ExitCode, UsageError } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'split',
  summary: 'assign train/valid/test splits without leakage, or check a split for leakage (--check)',
  positionals: 'NAME',
  description: [
    'Samples that must stay together form components that never straddle splits: the same pair, the same',
    'commit and the same near-duplicate cluster (MinHash/LSH over token shingles, settings in',
    'corpus.near_duplicates; variable names are abstracted, so renamed copies count), plus the same group',
    '(--by group) or project (--by project). --by time puts',
    'the oldest components (earliest commit time) in train and the newest in test. --by random is a plain',
    'per-sample shuffle, the naive baseline many papers used: it leaks (near-duplicates and pairs end up',
    'on both sides), which --check shows.',
    '',
    '--check reports samples related by code hash, near-duplicate cluster, commit, pair or group that are',
    'in different splits, and exits 1 when there is any leakage (0 when clean, 2 without splits).',
  ].join('\n'),
  options: {
    by: { type: 'string', help: 'what keeps samples together (default: split.by in finesec.yaml)', choices: SPLIT_MODES, arg: 'MODE' },
    ratios: { type: 'list', help: 'train,valid,test fractions (default: split.ratios)', arg: 'A,B,C' },
    seed: { type: 'number', help: 'seed of the deterministic assignment (default: split.seed)', arg: 'N' },
    check: { type: 'boolean', help: 'check the existing split for leakage instead of splitting', default: false },
    examples: { type: 'number', help: 'examples shown per leakage kind with --check', default: 3, arg: 'N' },
  },
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name || ctx.positionals.length > 1) throw new UsageError('split: expected one dataset NAME (see finesec split --help)');
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const dataset = requireDataset(ws.db, name);
      const nearDup = nearDupSettings(ws.config);
      if (bool(ctx.args, 'check')) {
        if (str(ctx.args, 'by') !== undefined || list(ctx.args, 'ratios').length > 0 || num(ctx.args, 'seed') !== undefined) {
          throw new UsageError('split: --check reads the existing split; it takes no --by, --ratios or --seed');
        }
        const examples = requireInt(ctx.args, 'split', 'examples', 0) ?? 3;
        const near = updateNearDuplicates(ws.db, dataset.id, nearDup, { logger: ctx.logger });
        const report = checkLeakage(ws.db, dataset, { examples });
        ctx.result(
          { ...report, nearDuplicates: { clusters: near.clusters, clusteredSamples: near.clusteredSamples, cached: near.cached } },
          renderLeakage(report),
        );
        if (!report.clean) {
          ctx.logger.error(`split check failed: ${report.leaks} units of related samples straddle splits in dataset ${name}`);
          return ExitCode.gateFailed;
        }
        return ExitCode.ok;
      }
      const by = (str(ctx.args, 'by') ?? ws.config.split.by) as SplitMode;
      const ratioArgs = list(ctx.args, 'ratios');
      const ratios = parseRatios(ratioArgs.length > 0 ? ratioArgs : ws.config.split.ratios);
      const seedArg = num(ctx.args, 'seed');
      if (seedArg !== undefined && !Number.isInteger(seedArg)) throw new UsageError(`split: --seed expects an integer, got ${seedArg}`);
      const seed = seedArg ?? ws.config.split.seed;
      const result = splitDataset(ws.db, dataset, { by, ratios, seed }, nearDup, ctx.logger);
      for (const w of result.warnings) ctx.logger.warn(w);
      ctx.result(result, renderSplit(result));
      return ExitCode.ok;
    } finally {
      ws.close();
    }
  },
};

function renderSplit(r: SplitResult): string {
  const lines = [
    `split ${r.dataset} --by ${r.by} --ratios ${r.ratios.map((x) => +x.toFixed(4)).join(',')} --seed ${r.seed} (run ${r.runId}, ${r.seconds.toFixed(1)}s)`,
  ];
  for (const split of SPLIT_NAMES) {
    const c = r.counts[split];
    const share = r.samples ? ((100 * c.total) / r.samples).toFixed(1) : '0.0';
    lines.push(
      `  ${split.padEnd(6)} ${String(c.total).padStart(7)} (${share}%)  vulnerable ${c.labels.vulnerable}, not vulnerable ${c.labels.not_vulnerable}` +
        (c.labels.unknown ? `, unknown ${c.labels.unknown}` : ''),
    );
  }
  if (r.by !== 'random') {
    lines.push(
      `  ${r.components} components (largest ${r.largestComponents.slice(0, 5).join(', ')}); sizes ${Object.entries(r.componentSizes)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
  }
  if (r.nearDuplicates) {
    const n = r.nearDuplicates;
    lines.push(`  near-duplicates: ${n.clusters} clusters with ${n.clusteredSamples} samples (largest ${n.largestCluster})${n.cached ? ', cached' : `, ${n.seconds.toFixed(1)}s`}`);
  }
  if (r.by === 'random') lines.push('  random split: related samples straddle splits (see: finesec split ' + r.dataset + ' --check)');
  return lines.join('\n');
}
