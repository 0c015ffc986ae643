import { existsSync, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { bool, list, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { defaultConfig } from '../config/load.js';
import { openWorkspace, type Workspace } from '../config/workspace.js';
import { workspaceRegistry } from '../learn/registry.js';
import { parseModelSpec, resolveModelSpec } from '../eval/model-spec.js';
import type { Severity } from '../report/schema.js';
import { readBaseline } from '../scan/baseline.js';
import { renderJson } from '../scan/json.js';
import { renderMarkdown } from '../scan/markdown.js';
import { PREFILTER_TOOLS, type PrefilterMode, type PrefilterTool } from '../scan/prefilter.js';
import { runScan } from '../scan/runner.js';
import { renderSarif } from '../scan/sarif.js';
import { DEFAULT_GENERATED_MARKERS } from '../scan/source.js';
import { LazyStudent } from '../scan/student.js';
import { summaryLine } from '../scan/summary.js';
import { readSuppressionsFile, SUPPRESSIONS_FILE } from '../scan/suppress.js';
import { SEVERITY_RANK, type ScanResult } from '../scan/types.js';
import { DEFAULT_EXTENSIONS, DEFAULT_SKIP_DIRS } from '../scan/walk.js';
import { ExitCode, InputError, UsageError, errorMessage } from '../util/errors.js';

const FORMATS = ['sarif', 'md', 'json'] as const;
type Format = (typeof FORMATS)[number];
const SEVERITY_CHOICES = ['low', 'medium', 'high', 'critical'] as const;

export const command: CommandSpec = {
  name: 'scan',
  summary: 'scan C/C++ code with a student: SARIF / Markdown / JSON findings, baselines, suppressions, a per-function cache',
  positionals: 'PATH...',
  description: [
    'Walks each PATH (honouring .gitignore, leaving out vendored directories and generated or minified files),',
    'extracts every function with tree-sitter and asks the student for a grounded report on each. Reports are',
    'cached in the workspace per (normalised function, model, adapters, prompt): scanning an unchanged tree again',
    'makes no model call. Functions too long for the context are analysed in parts (or skipped, with the reason).',
    '',
    'Model SPEC: BASE.gguf, BASE.gguf+ADAPTER.gguf[:SCALE] (more adapters with more +), or openai:MODEL@URL.',
    `Suppressions: an inline "// finesec-ignore CWE-476: reason" on the finding's line or the line above, and`,
    `${SUPPRESSIONS_FILE} in the root (or --suppressions FILE) with lines "GLOB CWE-ID|* reason".`,
    'Without --out the report goes to stdout (with --json: the JSON report). Exit codes: 0 no new finding at or',
    'above --fail-on, 1 such findings, 2 errors (bad input, or functions that could not be analysed).',
  ].join('\n'),
  options: {
    model: { type: 'string', help: 'the student: BASE.gguf[+ADAPTER.gguf[:SCALE]] or openai:MODEL@URL', arg: 'SPEC' },
    format: { type: 'string', help: 'output format (default md; json with --json)', choices: FORMATS, arg: 'FORMAT' },
    out: { type: 'string', help: 'write the report to FILE instead of stdout', arg: 'FILE' },
    include: { type: 'string', help: 'scan only files matching this glob (relative to the root)', multiple: true, arg: 'GLOB' },
    exclude: { type: 'string', help: 'leave out files and directories matching this glob', multiple: true, arg: 'GLOB' },
    baseline: { type: 'string', help: 'an earlier scan output (SARIF or JSON): report only findings not in it', arg: 'FILE' },
    'fail-on': { type: 'string', help: 'lowest severity of a new finding that makes the exit code 1', choices: SEVERITY_CHOICES, default: 'low', arg: 'SEVERITY' },
    'changed-since': { type: 'string', help: 'scan only files changed since this git ref (git diff --name-only, plus untracked files)', arg: 'GITREF' },
    prefilter: { type: 'string', help: 'run a static analyzer first', choices: PREFILTER_TOOLS, arg: 'TOOL' },
    'prefilter-mode': { type: 'string', help: 'only: scan only functions the analyzer flags; hints: give its hits to the student', choices: ['only', 'hints'], default: 'hints', arg: 'MODE' },
    threads: { type: 'number', help: 'CPU threads for a local student', default: 1, arg: 'N' },
    concurrency: { type: 'number', help: 'functions analysed at the same time (helps endpoints; a local student takes turns)', default: 1, arg: 'N' },
    ctx: { type: 'number', help: "context size in tokens for a local student (default: the model's, at most 4096)", arg: 'N' },
    'max-tokens': { type: 'number', help: 'most tokens per report (default: student.max_tokens of finesec.yaml)', arg: 'N' },
    'max-function-lines': { type: 'number', help: 'longer functions are analysed in parts (default: corpus.max_function_lines)', arg: 'N' },
    'max-file-bytes': { type: 'number', help: 'larger files are skipped (default: corpus.max_file_bytes)', arg: 'N' },
    root: { type: 'string', help: 'directory output paths are relative to (default: the current directory when it holds every PATH)', arg: 'DIR' },
    'skip-dirs': { type: 'list', help: 'directory names never entered (vendored code, build output); "" for none', default: [...DEFAULT_SKIP_DIRS], arg: 'LIST' },
    'generated-markers': { type: 'list', help: 'files with one of these in their first 30 lines are skipped as generated; "" for none', default: [...DEFAULT_GENERATED_MARKERS], arg: 'LIST' },
    extensions: { type: 'list', help: 'file name extensions scanned as C/C++', default: [...DEFAULT_EXTENSIONS], arg: 'LIST' },
    gitignore: { type: 'boolean', help: 'honour .gitignore files (--no-gitignore to scan ignored files too)', default: true },
    suppressions: { type: 'string', help: `suppressions file (default: ${SUPPRESSIONS_FILE} in the root, when present)`, arg: 'FILE' },
    cache: { type: 'boolean', help: 'use the per-function cache in the workspace (--no-cache to analyse everything afresh)', default: true },
    'api-key-env': { type: 'string', help: "environment variable holding the endpoint's API key (openai: specs)", arg: 'VAR' },
  },
  async run(ctx) {
    const cmd = 'scan';
    const a = ctx.args;
    const paths = ctx.positionals;
    if (paths.length === 0) throw new UsageError(`${cmd}: missing PATH (files or directories to scan)`);
    const modelText = requireStr(a, cmd, 'model');
    const out = str(a, 'out');
    const format = (str(a, 'format') ?? (ctx.json ? 'json' : 'md')) as Format;
    if (ctx.json && !out && format !== 'json') {
      throw new UsageError(`${cmd}: --json without --out prints the JSON report; drop --format ${format} or add --out FILE`);
    }
    const prefilterTool = str(a, 'prefilter') as PrefilterTool | undefined;
    const prefilterMode = str(a, 'prefilter-mode') as PrefilterMode;
    const threads = requireInt(a, cmd, 'threads', 1)!;
    const concurrency = requireInt(a, cmd, 'concurrency', 1)!;
    const contextSize = requireInt(a, cmd, 'ctx', 16);
    const failOn = str(a, 'fail-on') as Severity;
    for (const p of paths) {
      if (!existsSync(p) && !isDanglingLink(p)) throw new InputError(`${p}: no such file or directory`);
    }
    const root = scanRoot(paths, str(a, 'root'));

    const parsedSpec = parseModelSpec(modelText, cmd);
    // A registered adapter (adapter:ID) lives in the workspace registry, whatever --no-cache says.
    const spec =
      parsedSpec.kind === 'adapter'
        ? withWorkspace(ctx.workspace, (w) => resolveModelSpec(parsedSpec, workspaceRegistry(w), cmd))
        : resolveModelSpec(parsedSpec, undefined, cmd);
    const keyVar = str(a, 'api-key-env');
    const apiKey = keyVar !== undefined ? process.env[keyVar] : undefined;
    if (keyVar !== undefined && !apiKey) throw new UsageError(`${cmd}: --api-key-env ${keyVar}: the environment variable is not set or empty`);
    if (keyVar !== undefined && spec.kind !== 'openai') throw new UsageError(`${cmd}: --api-key-env applies to openai:MODEL@URL specs`);
    const baselinePath = str(a, 'baseline');
    const baseline = baselinePath ? readBaseline(baselinePath) : undefined;
    const suppressionsPath = str(a, 'suppressions') ?? (existsSync(join(root, SUPPRESSIONS_FILE)) ? join(root, SUPPRESSIONS_FILE) : undefined);
    const suppressions = suppressionsPath ? readSuppressionsFile(suppressionsPath) : [];

    const useCache = a.cache !== false;
    const ws: Workspace | undefined = useCache ? openWorkspace(ctx.workspace, { create: true, logger: ctx.logger }) : undefined;
    const config = ws?.config ?? defaultConfig();
    const maxTokens = requireInt(a, cmd, 'max-tokens', 1) ?? config.student.max_tokens;
    const maxFunctionLines = requireInt(a, cmd, 'max-function-lines', 1) ?? config.corpus.max_function_lines;
    const maxFileBytes = requireInt(a, cmd, 'max-file-bytes', 1) ?? config.corpus.max_file_bytes;
    let student: LazyStudent | undefined;
    let result: ScanResult;
    try {
      student = new LazyStudent(spec, { threads, ...(contextSize !== undefined ? { contextSize } : {}), ...(apiKey ? { apiKey } : {}) });
      result = await runScan({
        paths,
        root,
        modelSpec: spec.text,
        student,
        db: ws?.db,
        useCache,
        walk: {
          extensions: list(a, 'extensions'),
          include: list(a, 'include'),
          exclude: list(a, 'exclude'),
          skipDirs: list(a, 'skip-dirs'),
          gitignore: bool(a, 'gitignore'),
          ...(ws ? { skipPaths: [ws.paths.root] } : {}),
        },
        source: { maxFileBytes, generatedMarkers: list(a, 'generated-markers') },
        maxTokens,
        maxFunctionLines,
        ...(contextSize !== undefined ? { contextSize } : {}),
        concurrency,
        ...(str(a, 'changed-since') ? { changedSince: str(a, 'changed-since')! } : {}),
        ...(prefilterTool ? { prefilter: { tool: prefilterTool, mode: prefilterMode } } : {}),
        suppressions,
        ...(baseline ? { baseline } : {}),
        logger: ctx.logger,
      });
    } finally {
      await student?.close();
      ws?.close();
    }

    const text = format === 'sarif' ? renderSarif(result) : format === 'json' ? renderJson(result) : renderMarkdown(result);
    reportNotifications(ctx.logger, result);
    const line = summaryLine(result);
    if (out) {
      try {
        mkdirSync(dirname(resolve(out)), { recursive: true });
        writeFileSync(out, text);
      } catch (err) {
        throw new InputError(`${out}: cannot write the report (${errorMessage(err)})`, err);
      }
      ctx.logger.info(`${line}; ${format} report written to ${out}`);
      ctx.result(
        { out, format, successful: result.successful, findings: result.findings.length, suppressed: result.suppressed.length, stats: result.stats },
        undefined,
      );
    } else {
      ctx.logger.info(line);
      ctx.result(JSON.parse(renderJson(result)), text);
    }
    return exitCode(result, failOn);
  },
};

export function exitCode(result: ScanResult, failOn: Severity): number {
  if (!result.successful) return ExitCode.error;
  const failing = result.findings.some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[failOn]);
  return failing ? ExitCode.gateFailed : ExitCode.ok;
}

/** --root, or the current directory when it holds every path, or else the paths' deepest common directory. */
function scanRoot(paths: string[], given: string | undefined): string {
  const abs = paths.map((p) => resolve(p));
  const inside = (dir: string, p: string): boolean => {
    const rel = relative(dir, p);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  if (given !== undefined) {
    const root = resolve(given);
    const outside = paths.find((p, i) => !inside(root, abs[i]!));
    if (outside) throw new UsageError(`scan: --root ${given} does not contain ${outside}`);
    return root;
  }
  const cwd = process.cwd();
  if (abs.every((p) => inside(cwd, p))) return cwd;
  const dirs = abs.map((p) => (isDirectory(p) ? p : dirname(p)));
  let common = dirs[0]!;
  while (!dirs.every((d) => inside(common, d))) common = dirname(common);
  return common.endsWith(sep) && common.length > 1 ? common.slice(0, -1) : common;
}

function isDirectory(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

const MAX_WARNINGS_SHOWN = 20;

function reportNotifications(logger: Parameters<CommandSpec['run']>[0]['logger'], result: ScanResult): void {
  let warnings = 0;
  for (const n of result.notifications) {
    if (n.level === 'error') logger.error(n.message);
    else if (n.level === 'warning' && warnings++ < MAX_WARNINGS_SHOWN) logger.warn(n.message);
  }
  if (warnings > MAX_WARNINGS_SHOWN) logger.warn(`${warnings - MAX_WARNINGS_SHOWN} more warnings (see the report)`);
  const notes = result.notifications.filter((n) => n.level === 'note').length;
  if (notes > 0) logger.info(`${notes} note${notes === 1 ? '' : 's'} (skipped generated files, split functions, dropped findings) in the report`);
  for (const n of result.notifications) if (n.id === 'empty') logger.info(n.message);
}


function withWorkspace<T>(dir: string, use: (ws: Workspace) => T): T {
  const ws = openWorkspace(dir, { create: false });
  try {
    return use(ws);
  } finally {
    ws.close();
  }
}
