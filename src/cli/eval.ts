import { resolve } from 'node:path';
import { bool, list, num, requireInt, str, type CommandSpec } from './command.js';
import { workspaceRegistry } from '../learn/registry.js';
import { openWorkspace } from '../config/workspace.js';
import { parseBaseline } from '../eval/baselines/index.js';
import { runEval, type EvalModel } from '../eval/evaluate.js';
import { modelNames, parseModelSpec, resolveModelSpec } from '../eval/model-spec.js';
import { parseSuiteSpec } from '../eval/suite.js';
import { resultLine } from '../eval/results.js';
import { UsageError } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'eval',
  summary: 'evaluate models and baselines side by side on a dataset split: binary, paired, CWE, localisation, VD-S, quality, cost',
  description: [
    'Every model sees the same samples and the same prompt (the report prompt, no file names) and decodes greedily,',
    'so a re-run gives the same numbers. --model SPEC is repeatable:',
    '  path/base.gguf                          a base GGUF',
    '  path/base.gguf+path/adapter.gguf[:S]    a base with LoRA adapter(s) (+a.gguf+b.gguf:0.5)',
    '  openai:MODEL@URL                        an OpenAI-compatible endpoint (key from --api-key-env)',
    '  adapter:ID                              a registered adapter (needs the adapter registry)',
    'The first model is "before" (or --compare NAME); the others get before -> after deltas.',
    '--baseline cppcheck,flawfinder runs the static analyzers on the same samples (skipped with a note when',
    'not installed; flawfinder:N sets its risk-level threshold, default 3). --robustness also evaluates',
    'semantics-preserving rewrites of each sample and reports the verdict flip rate.',
    'Writes results.json, summary.md and report.html to --out (default <workspace>/runs/<run id>/) and the',
    'predictions to the knowledge base; ends with one "RESULT eval <name> f1=<x> pc=<x>" line per model and baseline.',
  ].join('\n'),
  options: {
    suite: { type: 'string', help: 'dataset and optional split to evaluate on', arg: 'DATASET[:SPLIT]' },
    model: { type: 'string', help: 'model to evaluate (see above)', arg: 'SPEC', multiple: true },
    name: { type: 'string', help: 'display name of the next --model, in order', arg: 'LABEL', multiple: true },
    baseline: { type: 'list', help: 'static-analysis baselines: cppcheck, flawfinder[:LEVEL]', arg: 'NAMES', multiple: true },
    compare: { type: 'string', help: 'name of the "before" model (default: the first)', arg: 'NAME' },
    robustness: { type: 'boolean', help: 'also evaluate rename / dead-code / reformat / reorder rewrites (verdict flip rate)', default: false },
    limit: { type: 'number', help: 'evaluate at most N samples (whole pairs, chosen by --seed)', arg: 'N' },
    seed: { type: 'number', help: 'seed of the --limit selection', default: 1, arg: 'N' },
    out: { type: 'string', help: 'output directory (default: <workspace>/runs/<run id>)', arg: 'DIR' },
    threads: { type: 'number', help: 'CPU threads for local models, and parallel baseline processes (default: threads in finesec.yaml)', arg: 'N' },
    'max-tokens': { type: 'number', help: 'most tokens a model may generate per report (default: student.max_tokens)', arg: 'N' },
    ctx: { type: 'number', help: 'context size of local models in tokens (default: the model\'s, at most 4096)', arg: 'N' },
    'api-key-env': { type: 'string', help: 'environment variable holding the API key of openai: models', arg: 'VAR' },
  },
  async run(ctx) {
    const cmd = 'eval';
    const a = ctx.args;
    if (ctx.positionals.length > 0) throw new UsageError(`${cmd}: unexpected argument "${ctx.positionals[0]}" (see finesec eval --help)`);
    const suiteSpec = str(a, 'suite');
    if (!suiteSpec) throw new UsageError(`${cmd}: --suite DATASET[:SPLIT] is required`);
    parseSuiteSpec(suiteSpec, cmd);
    const specs = list(a, 'model').map((m) => parseModelSpec(m, cmd));
    const baselines = list(a, 'baseline').map((b) => parseBaseline(b, cmd));
    if (new Set(baselines.map((b) => b.name)).size !== baselines.length) throw new UsageError(`${cmd}: a --baseline is given twice`);
    if (specs.length === 0 && baselines.length === 0) throw new UsageError(`${cmd}: give at least one --model or --baseline`);
    const names = modelNames(specs, list(a, 'name'), baselines.map((b) => b.name), cmd);
    const compare = str(a, 'compare');
    if (compare !== undefined && !names.includes(compare)) throw new UsageError(`${cmd}: --compare ${compare} is not one of the models (${names.join(', ') || 'none'})`);
    const limit = requireInt(a, cmd, 'limit', 1);
    const seed = num(a, 'seed')!;
    if (!Number.isSafeInteger(seed)) throw new UsageError(`${cmd}: --seed expects an integer, got ${seed}`);
    const keyVar = str(a, 'api-key-env');
    const apiKey = keyVar !== undefined ? process.env[keyVar] : undefined;
    if (keyVar !== undefined && !apiKey) throw new UsageError(`${cmd}: --api-key-env ${keyVar}: the environment variable is not set or empty`);

    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const models: EvalModel[] = specs.map((spec, i) => ({ name: names[i]!, specText: spec.text, spec: resolveModelSpec(spec, workspaceRegistry(ws), cmd) }));
      const threads = requireInt(a, cmd, 'threads', 1) ?? ws.config.threads;
      const maxTokens = requireInt(a, cmd, 'max-tokens', 1) ?? ws.config.student.max_tokens;
      const contextSize = requireInt(a, cmd, 'ctx', 16);
      const out = str(a, 'out');
      const { results, outDir } = await runEval({
        db: ws.db,
        suite: suiteSpec,
        models,
        baselines,
        robustness: bool(a, 'robustness'),
        maxTokens,
        threads,
        runsDir: ws.paths.runs,
        logger: ctx.logger,
        ...(limit !== undefined ? { limit } : {}),
        seed,
        ...(contextSize !== undefined ? { contextSize } : {}),
        ...(compare !== undefined ? { compare } : {}),
        ...(apiKey ? { apiKey } : {}),
        ...(out !== undefined ? { outDir: resolve(out) } : {}),
      });
      const lines = results.models.map(resultLine);
      ctx.result(
        {
          run_id: results.run.id,
          out: outDir,
          suite: results.suite,
          before: results.before,
          models: results.models.map((e) => ({
            name: e.name,
            kind: e.kind,
            available: e.available,
            note: e.note,
            f1: e.metrics?.f1 ?? null,
            'P-C': e.metrics?.paired['P-C'] ?? null,
            accuracy: e.metrics?.accuracy ?? null,
            mcc: e.metrics?.mcc ?? null,
          })),
          comparisons: results.comparisons,
          result_lines: lines,
        },
        [`wrote results.json, summary.md and report.html to ${outDir}`, ...lines].join('\n'),
      );
    } finally {
      ws.close();
    }
  },
};
