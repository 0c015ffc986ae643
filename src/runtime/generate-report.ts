import { listCwes } from '../cwe/index.js';
import { groundReport, type GroundingResult } from '../report/grounding.js';
import { reportSchema, type VulnerabilityReport } from '../report/schema.js';
import { formatPath } from '../report/validate.js';
import { errorMessage } from '../util/errors.js';
import { PromptTooLongError, type ChatBackend, type ChatMessage, type ChatUsage } from './chat-types.js';
import { buildReportMessages, codeLines, type ReportPromptOptions } from './report-prompt.js';
import { studentReportJsonSchema, studentToReport } from './report-schema.js';

/**
 * One report from a student for one piece of code: prompt, grammar-constrained generation,
 * parsing, schema validation, grounding. Every way it can go wrong is an outcome with a status
 * and a one-line reason, never an exception, so a batch (eval, scan) records it and goes on.
 */
export type ReportStatus =
  /** Parsed, schema-valid and grounded in the code. */
  | 'grounded'
  /** Parsed and schema-valid, but grounding found problems (see grounding.problems). */
  | 'ungrounded'
  /** Not JSON or not a valid report (only possible where the server does not enforce the schema). */
  | 'invalid'
  /** Generation stopped at max tokens before the JSON was complete. */
  | 'truncated'
  /** The prompt does not fit the context (and truncation was not asked for, or cannot help). */
  | 'prompt_too_long';

export interface ReportOutcome {
  status: ReportStatus;
  report?: VulnerabilityReport;
  grounding?: GroundingResult;
  /** One line, for every status but grounded. */
  error?: string;
  /** The model's text as generated ('' when nothing was generated). */
  raw: string;
  usage: ChatUsage;
  seconds: number;
  /** Lines of code the model saw (fewer than the input only with overflow: 'truncate'). */
  linesShown: number;
  linesTotal: number;
}

export interface GenerateReportOptions extends ReportPromptOptions {
  /** CWE ids the student may name; default the bundled catalog (without deprecated entries). */
  cweIds?: readonly string[];
  maxTokens?: number;
  /** Default 0: greedy, deterministic. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /**
   * What to do when the prompt does not fit: 'error' (default) gives status prompt_too_long;
   * 'truncate' keeps the longest prefix of the code whose prompt leaves room for the answer
   * (local students only: it needs the tokenizer). The report then covers only those lines.
   */
  overflow?: 'error' | 'truncate';
  signal?: AbortSignal;
}

/** A backend that can count prompt tokens (a LocalStudent). */
interface TokenCounting {
  contextSize: number;
  countPromptTokens(messages: ChatMessage[]): number;
}

let catalogIds: string[] | undefined;

/** The CWE ids students emit by default: the bundled catalog without deprecated entries. */
export function studentCweIds(): string[] {
  catalogIds ??= listCwes()
    .filter((e) => !e.deprecated)
    .map((e) => e.id);
  return catalogIds;
}

export async function generateReport(backend: ChatBackend, code: string, options: GenerateReportOptions = {}): Promise<ReportOutcome> {
  const started = Date.now();
  const lines = codeLines(code);
  const noUsage = { promptTokens: 0, completionTokens: 0 };
  const finish = (o: Omit<ReportOutcome, 'seconds' | 'linesTotal'>): ReportOutcome => ({
    ...o,
    seconds: (Date.now() - started) / 1000,
    linesTotal: lines.length,
  });

  let shown = lines;
  if (options.overflow === 'truncate') {
    if (!canCount(backend)) {
      return finish({ status: 'prompt_too_long', error: 'overflow "truncate" needs a local student (it counts tokens)', raw: '', usage: noUsage, linesShown: 0 });
    }
    const kept = longestFittingPrefix(backend, lines, options);
    if (kept === 0) {
      const tokens = backend.countPromptTokens(buildReportMessages(lines[0] ?? '', options));
      return finish({
        status: 'prompt_too_long',
        error: `even one line of code makes a ${tokens}-token prompt, too long for the ${backend.contextSize}-token context with room for the answer`,
        raw: '',
        usage: noUsage,
        linesShown: 0,
      });
    }
    shown = lines.slice(0, kept);
  }
  const shownCode = shown.join('\n');
  const schema = studentReportJsonSchema({ lineCount: shown.length, cweIds: options.cweIds ?? studentCweIds() });

  let result;
  try {
    result = await backend.complete({
      messages: buildReportMessages(shownCode, options),
      responseFormat: { type: 'json_schema', name: 'vulnerability_report', schema, strict: true },
      ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.topP !== undefined ? { topP: options.topP } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof PromptTooLongError) {
      return finish({ status: 'prompt_too_long', error: err.message, raw: '', usage: noUsage, linesShown: shown.length });
    }
    throw err;
  }

  const parsed = parseStudentReport(result.text);
  const base = { raw: result.text, usage: result.usage, linesShown: shown.length };
  if (!parsed.ok) {
    if (result.finishReason === 'length') {
      return finish({ ...base, status: 'truncated', error: `the answer reached max tokens (${result.usage.completionTokens}) before the JSON was complete` });
    }
    return finish({ ...base, status: 'invalid', error: parsed.error });
  }
  const grounding = groundReport(parsed.report, shownCode);
  if (grounding.ok) return finish({ ...base, status: 'grounded', report: parsed.report, grounding });
  const first = grounding.problems[0]?.message ?? 'grounding failed';
  const more = grounding.problems.length > 1 ? ` (+${grounding.problems.length - 1} more)` : '';
  return finish({ ...base, status: 'ungrounded', report: parsed.report, grounding, error: first + more });
}

/** Student text to a canonical report: JSON, the student-to-canonical mapping, the zod schema. */
export function parseStudentReport(text: string): { ok: true; report: VulnerabilityReport } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not valid JSON (${errorMessage(err).split('\n')[0]})` };
  }
  const parsed = reportSchema.safeParse(studentToReport(value));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = formatPath(issue.path);
    return { ok: false, error: `${path ? `${path}: ` : ''}${issue.message}` };
  }
  return { ok: true, report: parsed.data };
}

function canCount(backend: ChatBackend): backend is ChatBackend & TokenCounting {
  return typeof (backend as Partial<TokenCounting>).countPromptTokens === 'function' && typeof backend.contextSize === 'number';
}

/** Lines to keep so the prompt leaves room for the answer (binary search on the prefix length). */
function longestFittingPrefix(backend: TokenCounting, lines: string[], options: GenerateReportOptions): number {
  const room = Math.min(options.maxTokens ?? 1024, Math.floor(backend.contextSize / 2));
  const fits = (k: number): boolean => backend.countPromptTokens(buildReportMessages(lines.slice(0, k).join('\n'), options)) + room <= backend.contextSize;
  if (fits(lines.length)) return lines.length;
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
