import type { ExtractedFunction } from '../corpus/extract.js';
import type { Language } from '../kb/samples.js';
import { generateReport, type ReportOutcome } from '../runtime/generate-report.js';
import { PromptTooLongError, type ChatBackend } from '../runtime/chat-types.js';
import { codeLines } from '../runtime/report-prompt.js';
import type { GroundingResult } from '../report/grounding.js';
import { groundReport } from '../report/grounding.js';
import type { VulnerabilityReport } from '../report/schema.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { errorMessage } from '../util/errors.js';
import { cacheKeyFor, type CacheEntry, type CacheKey, type ScanCache } from './cache.js';
import { HintedBackend, hintText, scanMessages } from './prompt.js';
import { splitByLines, splitToFit, wholeCode, type CodePart } from './split.js';
import { canCountTokens, type LazyStudent, type StudentIdentity } from './student.js';
import type { FindingRegion, PrefilterHit, ScanFinding, ScanNotification } from './types.js';

/**
 * One function through the student: split when it is longer than --max-function-lines or than
 * the context allows, each part looked up in the cache and generated on a miss, and every
 * grounded finding mapped onto file lines. Everything that goes wrong becomes a notification
 * with its reason; only a transport or server error counts as an error of the scan.
 */
export interface FunctionTask {
  file: { rel: string; language: Language; lines: string[] };
  fn: ExtractedFunction;
  /** Prefilter hits inside the function (file lines). */
  hits: PrefilterHit[];
}

/** A finding before fingerprints, suppressions and the baseline are applied. */
export type RawFinding = Omit<ScanFinding, 'fingerprints' | 'suppression' | 'prefilter'>;

export interface FunctionOutcome {
  findings: RawFinding[];
  notifications: ScanNotification[];
  cacheHits: number;
  modelCalls: number;
  split: boolean;
  /** No part of the function could be analysed (too long, or errors). */
  skipped: boolean;
  /** A model call failed (not a skip). */
  errors: number;
  /** Findings the grounding rules removed. */
  dropped: number;
}

export interface AnalyserSettings {
  maxTokens: number;
  maxFunctionLines: number;
  /** The --ctx asked for (undefined: the model's default); part of the split markers' key. */
  contextSize: number | undefined;
  prefilterTool: string | undefined;
  /** Hits go into the prompt (prefilter mode hints). */
  hintsInPrompt: boolean;
}

export class FunctionAnalyser {
  constructor(
    private readonly student: LazyStudent,
    private readonly identity: StudentIdentity,
    private readonly promptVersion: string,
    private readonly cache: ScanCache | undefined,
    private readonly settings: AnalyserSettings,
  ) {}

  async analyse(task: FunctionTask): Promise<FunctionOutcome> {
    const out: FunctionOutcome = { findings: [], notifications: [], cacheHits: 0, modelCalls: 0, split: false, skipped: false, errors: 0, dropped: 0 };
    const parts = splitByLines(task.fn.code, this.settings.maxFunctionLines);
    if (parts.length > 1) {
      out.split = true;
      this.note(out, task, 'note', 'function-split', `${parts.length} parts: more than ${this.settings.maxFunctionLines} lines (--max-function-lines)`);
    }
    let analysed = 0;
    for (const part of parts) analysed += await this.analysePart(task, part, out);
    out.skipped = analysed === 0;
    return out;
  }

  /** Returns how many parts got an answer from the student (cached or not). */
  private async analysePart(task: FunctionTask, part: CodePart, out: FunctionOutcome): Promise<number> {
    const hints = this.settings.hintsInPrompt && this.settings.prefilterTool ? hintText(this.settings.prefilterTool, task.hits, task.fn.startLine + part.firstLine - 1, part.lineCount) : undefined;
    const key = this.key(part.code, task.file.language, hints, false);
    const hit = this.cache?.get(key, part.code);
    if (hit) {
      out.cacheHits++;
      this.collect(task, part, hit.status, hit.report, hit.error, true, out);
      return 1;
    }
    const markerKey = this.key(part.code, task.file.language, hints, true);
    const marker = this.cache?.get(markerKey, part.code);
    if (marker?.status === 'split' && marker.parts) {
      out.cacheHits++;
      return this.analyseSplit(task, part, marker.parts, out);
    }
    if (marker?.status === 'too_long') {
      out.cacheHits++;
      this.note(out, task, 'warning', 'function-skipped', `${partName(part, task)} not analysed: ${marker.error}`);
      return 0;
    }

    const backend = await this.student.backend();
    if (canCountTokens(backend)) {
      const fits = (code: string): boolean =>
        backend.countPromptTokens(scanMessages(code, task.file.language, hints)) + this.settings.maxTokens <= backend.contextSize;
      if (!fits(part.code)) {
        const split = splitToFit(part.code, fits);
        const room = `the ${backend.contextSize}-token context with ${this.settings.maxTokens} tokens left for the answer`;
        if (!split.ok) {
          const error = `line ${task.fn.startLine + part.firstLine - 1 + split.line - 1} alone does not fit ${room}`;
          this.cache?.put(markerKey, part.code, { status: 'too_long', error, usage: { promptTokens: 0, completionTokens: 0 } });
          this.note(out, task, 'warning', 'function-skipped', `${partName(part, task)} not analysed: ${error}`);
          return 0;
        }
        const ranges = split.parts.map((p): [number, number] => [p.firstLine, p.firstLine + p.lineCount - 1]);
        this.cache?.put(markerKey, part.code, { status: 'split', parts: ranges, usage: { promptTokens: 0, completionTokens: 0 } });
        return this.analyseSplit(task, part, ranges, out);
      }
    }

    let outcome: ReportOutcome;
    try {
      out.modelCalls++;
      const target: ChatBackend = hints ? new HintedBackend(backend, hints) : backend;
      outcome = await generateReport(target, part.code, { language: task.file.language, maxTokens: this.settings.maxTokens, temperature: 0 });
    } catch (err) {
      if (err instanceof PromptTooLongError) {
        this.note(out, task, 'warning', 'function-skipped', `${partName(part, task)} not analysed: ${err.message}`);
        return 0;
      }
      out.errors++;
      this.note(out, task, 'error', 'model-error', `${partName(part, task)} not analysed: ${errorMessage(err)}`);
      return 0;
    }
    if (outcome.status === 'prompt_too_long') {
      this.note(out, task, 'warning', 'function-skipped', `${partName(part, task)} not analysed: ${outcome.error}`);
      return 0;
    }
    const entry: CacheEntry & { seconds: number } = {
      status: outcome.status,
      ...(outcome.report ? { report: outcome.report } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      usage: outcome.usage,
      seconds: outcome.seconds,
    };
    this.cache?.put(key, part.code, entry);
    this.collect(task, part, outcome.status, outcome.report, outcome.error, false, out, outcome.grounding);
    return 1;
  }

  private async analyseSplit(task: FunctionTask, part: CodePart, ranges: Array<[number, number]>, out: FunctionOutcome): Promise<number> {
    out.split = true;
    const lines = codeLines(part.code);
    const first = task.fn.startLine + part.firstLine - 1;
    this.note(
      out,
      task,
      'note',
      'function-split',
      `${partName(part, task)} does not fit the context in one request: analysed in ${ranges.length} parts (lines ${ranges.map(([a, b]) => `${first + a - 1}-${first + b - 1}`).join(', ')})`,
    );
    let analysed = 0;
    for (const [a, b] of ranges) {
      const sub: CodePart = { code: lines.slice(a - 1, b).join('\n'), firstLine: part.firstLine + a - 1, lineCount: b - a + 1 };
      analysed += await this.analysePart(task, sub, out);
    }
    return analysed;
  }

  private key(code: string, language: Language, hints: string | undefined, marker: boolean): CacheKey {
    const request = {
      scanCache: 1,
      language,
      maxTokens: this.settings.maxTokens,
      temperature: 0,
      hints: hints ?? null,
      ...(marker ? { marker: 'fit', contextSize: this.settings.contextSize ?? 'model-default' } : {}),
    };
    return cacheKeyFor(code, { ...this.identity, promptVersion: this.promptVersion, requestHash: sha256(canonicalJson(request)) });
  }

  private collect(
    task: FunctionTask,
    part: CodePart,
    status: string,
    report: VulnerabilityReport | undefined,
    error: string | undefined,
    cached: boolean,
    out: FunctionOutcome,
    grounding?: GroundingResult,
  ): void {
    if (status === 'invalid' || status === 'truncated' || !report) {
      const why = status === 'truncated' ? 'report-truncated' : 'report-invalid';
      this.note(out, task, 'warning', why, `${partName(part, task)}: no usable report (${status}: ${error ?? 'no report'})`);
      return;
    }
    const checked = grounding ?? groundReport(report, part.code);
    const problems = new Map<number, string>();
    for (const p of checked.problems) {
      const m = /^findings\[(\d+)\]/.exec(p.path);
      if (m && !problems.has(Number(m[1]))) problems.set(Number(m[1]), p.message);
    }
    report.findings.forEach((f, i) => {
      const problem = problems.get(i);
      if (problem) {
        out.dropped++;
        this.note(out, task, 'note', 'finding-dropped', `${partName(part, task)}: ${f.cwe} finding "${f.title}" dropped, not grounded in the code: ${problem}`);
        return;
      }
      const match = checked.fragments.find((x) => x.finding === i);
      out.findings.push(toRawFinding(task, part, f, match?.match === 'missing' ? undefined : match, cached));
    });
  }

  private note(out: FunctionOutcome, task: FunctionTask, level: ScanNotification['level'], id: string, message: string): void {
    out.notifications.push({ level, id, file: task.file.rel, line: task.fn.startLine, message });
  }
}

function partName(part: CodePart, task: FunctionTask): string {
  const whole = part.firstLine === 1 && part.lineCount >= codeLines(task.fn.code).length;
  if (whole) return `function ${task.fn.name}`;
  const first = task.fn.startLine + part.firstLine - 1;
  return `function ${task.fn.name} (lines ${first}-${first + part.lineCount - 1})`;
}

function toRawFinding(
  task: FunctionTask,
  part: CodePart,
  f: VulnerabilityReport['findings'][number],
  match: { match: 'exact' | 'whitespace' | 'missing'; start_line?: number; end_line?: number } | undefined,
  cached: boolean,
): RawFinding {
  const base = task.fn.startLine + part.firstLine - 2;
  const fileLine = (l: number): number => base + l;
  const location = { startLine: fileLine(f.location.start_line), endLine: fileLine(f.location.end_line) };
  let region: FindingRegion = { ...location };
  if (match?.start_line !== undefined && match.end_line !== undefined) {
    region = { startLine: fileLine(match.start_line), endLine: fileLine(match.end_line) };
    if (match.match === 'exact') {
      const columns = fragmentColumns(task, part, f.fragment, match.start_line);
      if (columns) region = { ...region, ...columns };
    }
  }
  return {
    file: task.file.rel,
    function: task.fn.name,
    functionStartLine: task.fn.startLine,
    functionEndLine: task.fn.endLine,
    cwe: f.cwe,
    title: f.title,
    severity: f.severity,
    confidence: f.confidence,
    region,
    location,
    fragment: f.fragment,
    root_cause: f.root_cause,
    trigger: f.trigger,
    impact: f.impact,
    remediation: f.remediation,
    evidence: f.evidence.map((e) => ({ line: fileLine(e.line), step: e.step })),
    ...(f.fix !== undefined ? { fix: f.fix } : {}),
    cached,
  };
}

/**
 * Columns of the verbatim fragment whose first line is `startLine` of the part, in file terms:
 * the function's first line may start mid-line (a method inside a class), so its columns are
 * shifted by what precedes the function on that line.
 */
function fragmentColumns(task: FunctionTask, part: CodePart, fragment: string, startLine: number): Pick<FindingRegion, 'startColumn' | 'endColumn' | 'endLine'> | undefined {
  const text = part.code.replace(/\r\n?/g, '\n');
  const needle = fragment.replace(/\r\n?/g, '\n').replace(/^\n+/, '').replace(/\n+$/, '');
  if (needle === '') return undefined;
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let l = 0;
    while (l + 1 < lineStarts.length && lineStarts[l + 1]! <= offset) l++;
    return l + 1;
  };
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
    if (lineOf(at) !== startLine) continue;
    const end = at + needle.length;
    const endLine = lineOf(end - 1);
    const shift = (line: number): number => (part.firstLine === 1 && line === 1 ? firstLinePrefix(task) : 0);
    const base = task.fn.startLine + part.firstLine - 2;
    return {
      startColumn: at - lineStarts[startLine - 1]! + 1 + shift(startLine),
      endColumn: end - lineStarts[endLine - 1]! + 1 + shift(endLine),
      endLine: base + endLine,
    };
  }
  return undefined;
}

/** Characters before the function's code on its first file line. */
function firstLinePrefix(task: FunctionTask): number {
  const fileLine = task.file.lines[task.fn.startLine - 1] ?? '';
  const codeLine = codeLines(task.fn.code)[0] ?? '';
  return fileLine.endsWith(codeLine) ? fileLine.length - codeLine.length : 0;
}
