import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { list, num, requireInt, str, type CommandSpec } from './command.js';
import { parseAdapterArgs } from '../runtime/adapter-args.js';
import { generateReport, type ReportOutcome } from '../runtime/generate-report.js';
import { LocalStudent } from '../runtime/local-student.js';
import { OpenAiStudent } from '../runtime/openai-student.js';
import type { ChatBackend } from '../runtime/chat-types.js';
import { renderReportMarkdown } from '../report/render.js';
import { ExitCode, InputError, UsageError, errorMessage } from '../util/errors.js';

export const command: CommandSpec = {
  name: 'generate',
  summary: 'ask a student (local GGUF + LoRA, or an OpenAI-compatible endpoint) for a vulnerability report on one file',
  description:
    'The report is generated under a grammar built from the report schema, then validated and grounded in the code. ' +
    'Exit 0 when the report is grounded, 1 when it is not (ungrounded, invalid or cut off at max tokens), 2 on errors ' +
    '(including a file too long for the context, unless --truncate).',
  options: {
    model: { type: 'string', help: 'base model GGUF (local student)', arg: 'FILE' },
    lora: { type: 'string', help: 'LoRA adapter GGUF, optionally with a scale', arg: 'FILE[:SCALE]', multiple: true },
    endpoint: { type: 'string', help: 'OpenAI-compatible base URL instead of --model, e.g. http://127.0.0.1:8080/v1', arg: 'URL' },
    'endpoint-model': { type: 'string', help: 'model id at --endpoint', arg: 'ID' },
    'api-key-env': { type: 'string', help: 'environment variable holding the endpoint\'s API key', arg: 'VAR' },
    file: { type: 'string', help: 'C or C++ source to analyse', arg: 'FILE' },
    ctx: { type: 'number', help: 'context size in tokens (default: the model\'s, at most 4096)', arg: 'N' },
    threads: { type: 'number', help: 'CPU threads', default: 1 },
    'max-tokens': { type: 'number', help: 'most tokens to generate (default: what the context leaves)', arg: 'N' },
    temperature: { type: 'number', help: 'sampling temperature; 0 is greedy and deterministic', default: 0 },
    'top-p': { type: 'number', help: 'nucleus sampling threshold (with temperature > 0)', arg: 'P' },
    seed: { type: 'number', help: 'sampling seed (with temperature > 0)', arg: 'N' },
    truncate: { type: 'boolean', help: 'when the file does not fit the context, analyse the longest prefix that does', default: false },
  },
  async run(ctx) {
    const cmd = 'generate';
    const a = ctx.args;
    const file = str(a, 'file');
    if (!file) throw new UsageError(`${cmd}: --file is required`);
    let code: string;
    try {
      code = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InputError(`${file}: cannot read (${errorMessage(err)})`, err);
    }
    const language = /^\.(cc|cpp|cxx|hh|hpp|hxx)$/i.test(extname(file)) ? 'cpp' : 'c';
    const backend = await openBackend(a, cmd);
    let outcome: ReportOutcome;
    try {
      const maxTokens = requireInt(a, cmd, 'max-tokens', 1);
      const seed = requireInt(a, cmd, 'seed', 0);
      const topP = num(a, 'top-p');
      outcome = await generateReport(backend, code, {
        path: file,
        language,
        temperature: num(a, 'temperature')!,
        overflow: a.truncate === true ? 'truncate' : 'error',
        ...(maxTokens !== undefined ? { maxTokens } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(topP !== undefined ? { topP } : {}),
      });
    } finally {
      await backend.close();
    }
    if (outcome.status === 'prompt_too_long') {
      const reason = (outcome.error ?? 'prompt too long').replace(/ \(raise the context size or shorten the input\)$/, '');
      throw new InputError(`${file}: ${reason} (try --truncate or a larger --ctx)`);
    }
    if (outcome.linesShown < outcome.linesTotal) {
      ctx.logger.warn(`${file}: only lines 1-${outcome.linesShown} of ${outcome.linesTotal} fit the context; the report covers those`);
    }
    const summary =
      `${outcome.status}: ${outcome.usage.promptTokens} prompt + ${outcome.usage.completionTokens} generated tokens ` +
      `in ${outcome.seconds.toFixed(1)}s` + (outcome.error ? ` - ${outcome.error}` : '');
    ctx.logger.info(summary);
    const problems = (outcome.grounding?.problems ?? []).map((p) => `- ${p.message}`);
    const text = outcome.report
      ? renderReportMarkdown(outcome.report, { language }) + (problems.length ? `\n## Grounding problems\n\n${problems.join('\n')}\n` : '')
      : `no report (${outcome.error})\n\nraw output:\n${outcome.raw}`;
    ctx.result(
      {
        file,
        status: outcome.status,
        report: outcome.report ?? null,
        problems: outcome.grounding?.problems ?? [],
        error: outcome.error ?? null,
        raw: outcome.raw,
        usage: outcome.usage,
        seconds: outcome.seconds,
        lines: { shown: outcome.linesShown, total: outcome.linesTotal },
      },
      text,
    );
    return outcome.status === 'grounded' ? ExitCode.ok : ExitCode.gateFailed;
  },
};

async function openBackend(a: Parameters<CommandSpec['run']>[0]['args'], cmd: string): Promise<ChatBackend> {
  const model = str(a, 'model');
  const endpoint = str(a, 'endpoint');
  if ((model === undefined) === (endpoint === undefined)) throw new UsageError(`${cmd}: give exactly one of --model or --endpoint`);
  if (endpoint !== undefined) {
    const id = str(a, 'endpoint-model');
    if (!id) throw new UsageError(`${cmd}: --endpoint needs --endpoint-model`);
    if (list(a, 'lora').length > 0) throw new UsageError(`${cmd}: --lora applies to --model; an endpoint serves its own adapters`);
    const keyVar = str(a, 'api-key-env');
    const apiKey = keyVar !== undefined ? process.env[keyVar] : undefined;
    if (keyVar !== undefined && !apiKey) throw new UsageError(`${cmd}: --api-key-env ${keyVar}: the environment variable is not set or empty`);
    return new OpenAiStudent({ baseURL: endpoint, model: id, ...(apiKey ? { apiKey } : {}) });
  }
  const contextSize = requireInt(a, cmd, 'ctx', 16);
  return LocalStudent.load({
    model: model!,
    adapters: parseAdapterArgs(cmd, list(a, 'lora')),
    threads: requireInt(a, cmd, 'threads', 1)!,
    ...(contextSize !== undefined ? { contextSize } : {}),
  });
}
