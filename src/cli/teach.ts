import { bool, list, num, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { ExitCode, UsageError } from '../util/errors.js';
import { teach, type DryRunEstimate, type TeachSummary } from '../teacher/teach.js';
import { formatUsd } from '../teacher/cost.js';
import type { SplitName } from '../kb/samples.js';

export const command: CommandSpec = {
  name: 'teach',
  summary: 'ask the teacher for grounded, validated vulnerability reports on a dataset (resumable, cached)',
  description: [
    'Every answer is checked: JSON schema, grounding in the code, and agreement with the sample\'s ground truth',
    '(verdict; CWE the same or related). Rejected answers are resampled at rising temperature and kept with their',
    'reasons. Answers are cached in the knowledge base, so a re-run or a resumed run never pays twice.',
    'Teachers: reference (offline, from ground truth), openai:MODEL[@URL] (any OpenAI-compatible server),',
    'anthropic:MODEL[@URL]. Repeat --teacher for a jury (majority verdict). API keys come from the environment',
    'variable named by teacher.api_key_env.',
  ].join('\n'),
  options: {
    dataset: { type: 'string', help: 'dataset to teach on', arg: 'NAME' },
    split: { type: 'string', help: 'only samples of this split', choices: ['train', 'valid', 'test'] },
    limit: { type: 'number', help: 'the first N samples (by id) of the selection', arg: 'N' },
    teacher: { type: 'string', help: 'teacher spec (default: teacher.spec in finesec.yaml); repeat for a jury', multiple: true, arg: 'SPEC' },
    hinted: { type: 'boolean', help: 'show the label to the teacher (recorded as hinted, separate prompt version)', default: false },
    refresh: { type: 'boolean', help: 'bypass the cache and replace existing records', default: false },
    concurrency: { type: 'number', help: 'requests in flight (default: teacher.concurrency)', arg: 'N' },
    'max-cost': { type: 'number', help: 'stop cleanly once this much is spent, USD (default: teacher.max_cost_usd)', arg: 'USD' },
    'dry-run': { type: 'boolean', help: 'estimate tokens and cost; make no call', default: false },
    resamples: { type: 'number', help: 'resamples after a rejected answer (default: teacher.resamples)', arg: 'K' },
    'max-tokens': { type: 'number', help: 'answer token limit per request', default: 2048, arg: 'N' },
    'log-every': { type: 'number', help: 'without a TTY, log a progress line every N seconds (0: never)', default: 10, arg: 'SECONDS' },
  },
  async run(ctx) {
    const dataset = requireStr(ctx.args, 'teach', 'dataset');
    const split = str(ctx.args, 'split') as SplitName | undefined;
    const limit = requireInt(ctx.args, 'teach', 'limit', 0);
    const concurrencyArg = requireInt(ctx.args, 'teach', 'concurrency', 1);
    const resamplesArg = requireInt(ctx.args, 'teach', 'resamples', 0);
    const maxTokens = requireInt(ctx.args, 'teach', 'max-tokens', 1)!;
    const maxCostArg = num(ctx.args, 'max-cost');
    if (maxCostArg !== undefined && maxCostArg < 0) throw new UsageError(`teach: --max-cost expects a number >= 0, got ${maxCostArg}`);
    const logEvery = num(ctx.args, 'log-every') ?? 10;
    const ws = openWorkspace(ctx.workspace, { create: false, logger: ctx.logger });
    try {
      const t = ws.config.teacher;
      const maxCostUsd = maxCostArg ?? t.max_cost_usd;
      const result = await teach(
        {
          dataset,
          ...(split ? { split } : {}),
          ...(limit !== undefined ? { limit } : {}),
          teachers: list(ctx.args, 'teacher'),
          hinted: bool(ctx.args, 'hinted'),
          refresh: bool(ctx.args, 'refresh'),
          concurrency: concurrencyArg ?? t.concurrency,
          ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
          dryRun: bool(ctx.args, 'dry-run'),
          resamples: resamplesArg ?? t.resamples,
          maxTokens,
          logEverySeconds: logEvery,
        },
        { db: ws.db, config: ws.config, logger: ctx.logger },
      );
      ctx.result(result, result.dryRun ? dryRunText(result) : summaryText(result));
      // A bad key or exhausted quota ends the run early: say so with the error exit code.
      if (!result.dryRun && result.stopped?.reason === 'fatal') {
        ctx.logger.error(`teach stopped: ${result.stopped.message}`);
        return ExitCode.error;
      }
    } finally {
      ws.close();
    }
  },
};

function dryRunText(e: DryRunEstimate): string {
  return [
    `dry run: ${e.teacher} on ${e.dataset} (prompt ${e.promptVersion}); no request made`,
    `  samples: ${e.selected} selected, ${e.alreadyDone} already done, ${e.todo} to do (${e.cachedFirstAttempts} answered from the cache)`,
    `  estimated tokens: ${e.promptTokens} prompt + ${e.completionTokens} completion`,
    `  estimated cost: ${formatUsd(e.costUsd)} (worst case with every resample and repair: ${formatUsd(e.worstCaseCostUsd)})${e.priced ? '' : ' - no price in teacher.prices for this model'}`,
  ].join('\n');
}

function summaryText(s: TeachSummary): string {
  const lines = [
    `teach ${s.run}: ${s.teacher} on ${s.dataset} (prompt ${s.promptVersion}${s.hinted ? ', hinted' : ''})`,
    `  samples: ${s.selected} selected, ${s.alreadyDone} already done, ${s.todo} to do`,
    `  accepted ${s.accepted}, rejected ${s.rejected}, refused ${s.refused}, errors ${s.errors}, left ${s.left}`,
    `  requests ${s.calls}, cache hits ${s.cacheHits}, tokens ${s.promptTokens} + ${s.completionTokens}, spend ${formatUsd(s.costUsd)}, ${s.seconds.toFixed(1)} s`,
  ];
  const reasons = Object.entries(s.rejectionReasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length) lines.push(`  rejection reasons: ${reasons.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const errors = Object.entries(s.errorMessages).sort((a, b) => b[1] - a[1]).slice(0, 5);
  for (const [message, n] of errors) lines.push(`  error x${n}: ${message}`);
  if (s.stopped) lines.push(`  stopped: ${s.stopped.message}; ${s.left} samples left (run again to continue)`);
  return lines.join('\n');
}
