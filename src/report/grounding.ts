import { getCwe, normaliseCweId } from '../cwe/index.js';
import type { Finding, VulnerabilityReport } from './schema.js';
import { parseReport, problem, type ReportProblem } from './validate.js';

/**
 * The grounding rules of ARCHITECTURE.md as code: a report is accepted only when everything it
 * claims can be checked against the code it describes. Problems reject the report; warnings are
 * kept for inspection but do not.
 */
export interface FragmentMatch {
  finding: number;
  /** exact: the fragment occurs verbatim; whitespace: only after line-by-line whitespace normalisation. */
  match: 'exact' | 'whitespace' | 'missing';
  /** Lines of the first occurrence (inside the location when one is). */
  start_line?: number;
  end_line?: number;
}

export interface GroundingResult {
  ok: boolean;
  problems: ReportProblem[];
  warnings: ReportProblem[];
  fragments: FragmentMatch[];
  /** The validated report, when it passed the schema. */
  report?: VulnerabilityReport;
}

interface LineSpan {
  start: number;
  end: number;
}

/** Checks a report (parsed or not) against the code it describes. */
export function groundReport(report: unknown, code: string): GroundingResult {
  const parsed = parseReport(report);
  if (!parsed.ok) return { ok: false, problems: parsed.problems, warnings: [], fragments: [] };
  const r = parsed.report;
  const source = new SourceText(code);
  const problems: ReportProblem[] = [];
  const warnings: ReportProblem[] = [];
  const fragments: FragmentMatch[] = [];

  if (r.verdict === 'vulnerable' && r.findings.length === 0) {
    problems.push(problem('verdict_mismatch', 'findings', 'the verdict is "vulnerable" but there are no findings'));
  }
  if (r.verdict === 'not_vulnerable' && r.findings.length > 0) {
    problems.push(problem('verdict_mismatch', 'verdict', `the verdict is "not_vulnerable" but there ${r.findings.length === 1 ? 'is 1 finding' : `are ${r.findings.length} findings`}`));
  }

  const seen = new Set<string>();
  r.findings.forEach((f, i) => {
    const at = `findings[${i}]`;
    checkCwe(f, at, problems);
    const locationValid = checkLocation(f, at, source, problems);
    fragments.push(checkFragment(f, i, at, source, locationValid, problems));
    f.evidence.forEach((e, j) => {
      if (!source.has(e.line)) {
        problems.push(problem('line_out_of_range', `${at}.evidence[${j}].line`, `line ${e.line} does not exist (the code has ${source.lineCount} lines)`));
      }
    });
    if (!Number.isFinite(f.confidence) || f.confidence < 0 || f.confidence > 1) {
      problems.push(problem('confidence_out_of_range', `${at}.confidence`, `confidence ${f.confidence} is outside 0..1`));
    }
    collectWarnings(f, at, source, locationValid, seen, warnings);
  });

  return { ok: problems.length === 0, problems, warnings, fragments, report: r };
}

function checkCwe(f: Finding, at: string, problems: ReportProblem[]): void {
  const id = normaliseCweId(f.cwe);
  if (!id || !getCwe(id)) problems.push(problem('unknown_cwe', `${at}.cwe`, `${f.cwe} is not in the CWE catalog`));
}

function checkLocation(f: Finding, at: string, source: SourceText, problems: ReportProblem[]): boolean {
  const { start_line: start, end_line: end } = f.location;
  let valid = true;
  if (start > end) {
    problems.push(problem('line_range_inverted', `${at}.location`, `start_line ${start} is after end_line ${end}`));
    valid = false;
  }
  for (const [name, line] of [
    ['start_line', start],
    ['end_line', end],
  ] as const) {
    if (!source.has(line)) {
      problems.push(problem('line_out_of_range', `${at}.location.${name}`, `line ${line} does not exist (the code has ${source.lineCount} lines)`));
      valid = false;
    }
  }
  return valid;
}

function checkFragment(f: Finding, index: number, at: string, source: SourceText, locationValid: boolean, problems: ReportProblem[]): FragmentMatch {
  const exact = source.exactSpans(f.fragment);
  const spans = exact.length > 0 ? exact : source.normalisedSpans(f.fragment);
  if (spans.length === 0) {
    problems.push(problem('fragment_not_found', `${at}.fragment`, `not found in the code, verbatim or after whitespace normalisation: "${abbreviate(f.fragment)}"`));
    return { finding: index, match: 'missing' };
  }
  const match = exact.length > 0 ? 'exact' : 'whitespace';
  const { start_line: start, end_line: end } = f.location;
  const inside = spans.find((s) => s.start >= start && s.end <= end);
  if (locationValid && !inside) {
    const first = spans[0]!;
    problems.push(
      problem('fragment_outside_location', `${at}.fragment`, `found on ${describeSpan(first)}, outside the location (lines ${start}-${end})`),
    );
  }
  const chosen = inside ?? spans[0]!;
  return { finding: index, match, start_line: chosen.start, end_line: chosen.end };
}

function collectWarnings(f: Finding, at: string, source: SourceText, locationValid: boolean, seen: Set<string>, warnings: ReportProblem[]): void {
  const key = `${normaliseCweId(f.cwe)}|${squeeze(f.fragment)}`;
  if (seen.has(key)) warnings.push(problem('duplicate_finding', at, `repeats an earlier finding (same CWE and fragment)`));
  seen.add(key);
  const fn = f.location.function.split('::').pop()!.trim();
  if (fn && !new RegExp(`\\b${escapeRegExp(fn)}\\b`).test(source.text)) {
    warnings.push(problem('function_not_found', `${at}.location.function`, `"${f.location.function}" does not occur in the code`));
  }
  if (locationValid && !f.evidence.some((e) => e.line >= f.location.start_line && e.line <= f.location.end_line)) {
    warnings.push(problem('evidence_misses_location', `${at}.evidence`, `no evidence step is inside the location (lines ${f.location.start_line}-${f.location.end_line})`));
  }
  if (f.fix !== undefined && squeeze(f.fix) === squeeze(f.fragment)) {
    warnings.push(problem('fix_unchanged', `${at}.fix`, 'the fix is the same code as the fragment'));
  }
}

/** Code split into lines, with the lookups grounding needs. Line numbers are 1-based. */
class SourceText {
  readonly text: string;
  readonly lines: string[];
  private readonly lineStarts: number[];
  private squeezed: Array<{ line: number; text: string }> | undefined;

  constructor(code: string) {
    this.text = code.replace(/\r\n?/g, '\n');
    this.lines = this.text.split('\n');
    if (this.lines.length > 1 && this.lines[this.lines.length - 1] === '') this.lines.pop();
    this.lineStarts = [0];
    for (let i = 0; i < this.text.length; i++) if (this.text[i] === '\n') this.lineStarts.push(i + 1);
  }

  get lineCount(): number {
    return this.lines.length;
  }

  has(line: number): boolean {
    return Number.isInteger(line) && line >= 1 && line <= this.lineCount;
  }

  /** Line (1-based) holding character offset. */
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  exactSpans(fragment: string, limit = 100): LineSpan[] {
    const needle = fragment.replace(/\r\n?/g, '\n');
    const spans: LineSpan[] = [];
    if (needle.trim() === '') return spans;
    // Leading/trailing newlines of the fragment do not move it onto other lines.
    const lead = needle.length - needle.replace(/^\n+/, '').length;
    const trail = needle.length - needle.replace(/\n+$/, '').length;
    for (let at = this.text.indexOf(needle); at !== -1 && spans.length < limit; at = this.text.indexOf(needle, at + 1)) {
      spans.push({ start: this.lineAt(at + lead), end: this.lineAt(at + needle.length - 1 - trail) });
    }
    return spans;
  }

  /**
   * Occurrences after whitespace normalisation, line by line: blank lines are ignored, the first
   * fragment line may be the end of a code line, the last one the start of a code line, and every
   * line in between must match a whole code line.
   */
  normalisedSpans(fragment: string, limit = 100): LineSpan[] {
    const want = fragment
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map(squeeze)
      .filter((l) => l !== '');
    const spans: LineSpan[] = [];
    if (want.length === 0) return spans;
    this.squeezed ??= this.lines.map((l, i) => ({ line: i + 1, text: squeeze(l) })).filter((l) => l.text !== '');
    const have = this.squeezed;
    const k = want.length;
    for (let j = 0; j + k <= have.length && spans.length < limit; j++) {
      if (k === 1) {
        if (have[j]!.text.includes(want[0]!)) spans.push({ start: have[j]!.line, end: have[j]!.line });
        continue;
      }
      if (!have[j]!.text.endsWith(want[0]!)) continue;
      let ok = true;
      for (let m = 1; m < k - 1 && ok; m++) ok = have[j + m]!.text === want[m];
      if (ok && have[j + k - 1]!.text.startsWith(want[k - 1]!)) spans.push({ start: have[j]!.line, end: have[j + k - 1]!.line });
    }
    return spans;
  }
}

/** Whitespace-insensitive form of one line: runs collapse, and spaces next to punctuation go. */
export function squeeze(line: string): string {
  return line
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/ ?([^A-Za-z0-9_ ]) ?/g, '$1');
}

function describeSpan(s: LineSpan): string {
  return s.start === s.end ? `line ${s.start}` : `lines ${s.start}-${s.end}`;
}

function abbreviate(text: string, max = 60): string {
  const one = text.replace(/\s*\n\s*/g, ' ⏎ ').trim();
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
