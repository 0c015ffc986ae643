import { bool, list, num, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { DISTILL_TASKS, isDistillTask, type DistillTask } from '../distill/types.js';
import { parseSuiteSpec } from '../eval/suite.js';
import { GATE_METRICS, type GateMetric } from '../learn/gate.js';
import { learn } from '../learn/loop.js';
import { renderLearnSummary } from '../learn/summary.js';
import { ExitCode, UsageError } from '../util/errors.js';

const CMD = 'learn';

export const command: CommandSpec = {
  name: CMD,
  summary: 'continual learning: hard cases from eval errors and feedback -> teacher -> warm-started update -> gated, versioned adapter',
  description: [
    'Each round: harvest the errors of --from-eval runs (false negatives, false positives, wrong CWEs, ungrounded',
    'reports) and/or take stored feedback (--from-feedback); refuse anything whose code is in, or near, a valid/test',
    'split; hold out a share of the hard cases (learn.holdout) for the gate; ask the teacher about the rest (its',
    'knowledge is linked to the feedback); train on the hard examples plus --replay of earlier examples (stratified',
    'by CWE, by --seed), warm-started from the adapter for --max-steps steps; register the candidate; then gate it:',
    'the mean --metric over the target suites (held-out hard cases and every --target) must rise by --margin, and',
    'no --suite may fall by more than --tolerance (in --regression-metric). A candidate that passes is promoted and',
    'the next round starts from it (hard cases: its errors on the --from-eval suites, evaluated again); one that fails',
    'is kept as rejected with its numbers and the loop stops. Exit 0 when a candidate was promoted, 1 when none was.',
    'Defaults come from the learn section of finesec.yaml.',
  ].join('\n'),
  options: {
    adapter: { type: 'string', help: 'registered adapter to improve (an id, or current)', arg: 'ID' },
    'from-eval': { type: 'string', help: 'eval run whose errors are the first hard cases (repeatable)', multiple: true, arg: 'RUN' },
    'eval-model': { type: 'string', help: 'the model\'s name in those runs when they evaluated several', arg: 'NAME' },
    'from-feedback': { type: 'boolean', help: 'also learn from accepted feedback no promoted round has learned', default: false },
    rounds: { type: 'number', help: 'most rounds (default learn.rounds)', arg: 'N' },
    suite: { type: 'string', help: 'frozen regression suite DATASET:SPLIT (repeatable)', multiple: true, arg: 'DATASET:SPLIT' },
    target: { type: 'string', help: 'target suite DATASET:SPLIT that must improve, besides the held-out hard cases (repeatable)', multiple: true, arg: 'DATASET:SPLIT' },
    margin: { type: 'number', help: 'least rise of the target metric (default learn.margin)', arg: 'X' },
    tolerance: { type: 'number', help: 'largest fall allowed on a regression suite (default learn.tolerance)', arg: 'X' },
    metric: { type: 'string', help: 'target metric (default learn.metric)', choices: GATE_METRICS, arg: 'NAME' },
    'regression-metric': { type: 'string', help: 'regression suites\' metric (default: --metric)', choices: GATE_METRICS, arg: 'NAME' },
    'max-steps': { type: 'number', help: 'optimizer steps per update (default learn.max_steps)', arg: 'N' },
    replay: { type: 'number', help: 'share of each update batch drawn from earlier examples, in [0, 1) (default learn.replay)', arg: 'X' },
    seed: { type: 'number', help: 'seed of the holdout, the replay sample and the update (default learn.seed)', arg: 'N' },
    holdout: { type: 'number', help: 'share of hard cases held out for the gate, in [0, 1) (default learn.holdout)', arg: 'X' },
    tasks: { type: 'list', help: `example tasks of the update (default learn.tasks; ${DISTILL_TASKS.join(',')})`, arg: 'LIST' },
    lr: { type: 'number', help: 'learning rate of the update (default learn.lr, else train.lr)', arg: 'X' },
    limit: { type: 'number', help: 'at most N samples per gate suite (default learn.suite_limit: all)', arg: 'N' },
    'max-tokens': { type: 'number', help: 'tokens a model may generate per report in the gate (default student.max_tokens)', arg: 'N' },
    threads: { type: 'number', help: 'CPU threads for training and evaluation (default: threads in finesec.yaml)', arg: 'N' },
    ctx: { type: 'number', help: 'context size of the student in the gate (default: the model\'s, at most 4096)', arg: 'N' },
    teacher: { type: 'string', help: 'teacher spec for re-teaching (repeatable: a jury; default teacher.spec)', multiple: true, arg: 'SPEC' },
    'max-cost': { type: 'number', help: 'spend limit of the re-teaching per round, USD', arg: 'USD' },
  },
  async run(ctx) {
    const a = ctx.args;
    if (ctx.positionals.length > 0) throw new UsageError(`${CMD}: unexpected argument "${ctx.positionals[0]}" (see finesec learn --help)`);
    const adapter = requireStr(a, CMD, 'adapter');
    const suites = list(a, 'suite');
    const targets = list(a, 'target');
    for (const s of [...suites, ...targets]) {
      const parsed = parseSuiteSpec(s, CMD);
      if (parsed.split === 'train') ctx.logger.warn(`${CMD}: gate suite ${s} is a training split; held-out data measures learning better`);
    }
    const tasks = list(a, 'tasks');
    const unknown = tasks.filter((t) => !isDistillTask(t));
    if (unknown.length) throw new UsageError(`${CMD}: unknown task ${unknown.join(', ')} (tasks: ${DISTILL_TASKS.join(', ')})`);
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const l = ws.config.learn;
      const metric = (str(a, 'metric') as GateMetric | undefined) ?? l.metric;
      const seed = num(a, 'seed') ?? l.seed;
      if (!Number.isSafeInteger(seed)) throw new UsageError(`${CMD}: --seed expects an integer, got ${seed}`);
      const lr = num(a, 'lr') ?? l.lr;
      const limit = requireInt(a, CMD, 'limit', 1) ?? l.suite_limit;
      const contextSize = requireInt(a, CMD, 'ctx', 16);
      const maxCost = num(a, 'max-cost');
      const teachers = list(a, 'teacher');
      const evalModel = str(a, 'eval-model');
      const summary = await learn(
        {
          adapter,
          fromEval: list(a, 'from-eval'),
          ...(evalModel !== undefined ? { evalModel } : {}),
          fromFeedback: bool(a, 'from-feedback'),
          rounds: requireInt(a, CMD, 'rounds', 1) ?? l.rounds,
          suites,
          targets,
          margin: num(a, 'margin') ?? l.margin,
          tolerance: num(a, 'tolerance') ?? l.tolerance,
          metric,
          regressionMetric: (str(a, 'regression-metric') as GateMetric | undefined) ?? metric,
          maxSteps: requireInt(a, CMD, 'max-steps', 1) ?? l.max_steps,
          replay: num(a, 'replay') ?? l.replay,
          seed,
          holdout: num(a, 'holdout') ?? l.holdout,
          tasks: tasks.length ? (tasks as DistillTask[]) : (l.tasks as DistillTask[]),
          ...(lr !== undefined ? { lr } : {}),
          ...(limit !== undefined ? { suiteLimit: limit } : {}),
          maxTokens: requireInt(a, CMD, 'max-tokens', 1) ?? ws.config.student.max_tokens,
          threads: requireInt(a, CMD, 'threads', 1) ?? ws.config.threads,
          ...(contextSize !== undefined ? { contextSize } : {}),
          ...(teachers.length ? { teachers } : {}),
          ...(maxCost !== undefined ? { maxCostUsd: maxCost } : {}),
        },
        { db: ws.db, config: ws.config, paths: ws.paths, logger: ctx.logger },
      );
      ctx.result(summary, renderLearnSummary(summary));
      return summary.promoted > 0 ? ExitCode.ok : ExitCode.gateFailed;
    } finally {
      ws.close();
    }
  },
};
