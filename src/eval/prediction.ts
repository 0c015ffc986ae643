import type { ReportOutcome } from '../runtime/generate-report.js';
import type { Finding, Verdict, VulnerabilityReport } from '../report/schema.js';
import type { SuiteSample } from './suite.js';

/**
 * One model's (or baseline's) answer for one sample, reduced to what the metrics read, plus the
 * raw output so nothing is lost. Rules:
 * - predicted is 1 when the verdict is "vulnerable"; no verdict at all (the prompt did not fit,
 *   the endpoint failed, nothing parseable) counts as 0: the model did not report a vulnerability.
 * - a report cut off at max tokens still carries the verdict it started with (the report's first
 *   key, emitted under the grammar): verdict_source "partial", and it is not schema-valid.
 * - lines: every line of every finding's location range; cwes: the findings' CWEs.
 * - score (for VD-S): 0 for not_vulnerable or no verdict; 0.5 + 0.5 * the highest finding
 *   confidence for vulnerable (0.5 when no confidence was given).
 */
export type VerdictSource = 'report' | 'partial' | 'tool' | 'none';

export interface ToolFinding {
  rule: string;
  severity: string;
  line: number | null;
  cwe: string | null;
  message: string;
  /** Whether this finding makes the verdict "vulnerable" under the baseline's mapping. */
  counts: boolean;
}

export interface Prediction {
  sample_id: number;
  verdict: Verdict | null;
  verdict_source: VerdictSource;
  predicted: 0 | 1;
  correct: boolean;
  cwes: string[];
  lines: number[];
  score: number;
  /** grounded | ungrounded | invalid | truncated | prompt_too_long | error (models); ok | error (baselines). */
  status: string;
  schema_valid: boolean;
  grounded: boolean;
  /** Share of root cause, trigger, impact and remediation fields that are substantive, over the findings; null without findings. */
  completeness: FieldCompleteness | null;
  error: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  lines_shown: number;
  raw: string;
  /** Baselines: the tool's findings as mapped. */
  tool_findings?: ToolFinding[];
  /** Wall-clock seconds for this sample (a timing: differs between runs). */
  seconds: number;
}

export const COMPLETENESS_FIELDS = ['root_cause', 'trigger', 'impact', 'remediation'] as const;
export type CompletenessField = (typeof COMPLETENESS_FIELDS)[number];
export type FieldCompleteness = Record<CompletenessField, number>;

/** A field is substantive when it has at least this many words (the schema only asks for one character). */
export const MIN_FIELD_WORDS = 3;

export function fieldIsSubstantive(text: string): boolean {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length >= MIN_FIELD_WORDS;
}

export function findingCompleteness(findings: readonly Finding[]): FieldCompleteness | null {
  if (findings.length === 0) return null;
  const out = {} as FieldCompleteness;
  for (const field of COMPLETENESS_FIELDS) {
    out[field] = findings.filter((f) => fieldIsSubstantive(f[field])).length / findings.length;
  }
  return out;
}

export function reportLines(report: VulnerabilityReport): number[] {
  const lines = new Set<number>();
  for (const f of report.findings) {
    for (let l = f.location.start_line; l <= f.location.end_line; l++) lines.add(l);
  }
  return [...lines].sort((a, b) => a - b);
}

function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

const PARTIAL_VERDICT = /^\s*\{\s*"verdict"\s*:\s*"(vulnerable|not_vulnerable)"/;

export function predictionFromOutcome(sample: SuiteSample, outcome: ReportOutcome): Prediction {
  const schemaValid = outcome.status === 'grounded' || outcome.status === 'ungrounded';
  let verdict: Verdict | null = null;
  let source: VerdictSource = 'none';
  let cwes: string[] = [];
  let lines: number[] = [];
  let score = 0;
  let completeness: FieldCompleteness | null = null;
  if (outcome.report) {
    const r = outcome.report;
    verdict = r.verdict;
    source = 'report';
    cwes = uniqueSorted(r.findings.map((f) => f.cwe));
    lines = reportLines(r);
    if (verdict === 'vulnerable') {
      const conf = r.findings.length > 0 ? Math.max(...r.findings.map((f) => f.confidence)) : 0;
      score = 0.5 + 0.5 * conf;
    }
    completeness = findingCompleteness(r.findings);
  } else {
    const m = PARTIAL_VERDICT.exec(outcome.raw);
    if (m) {
      verdict = m[1] as Verdict;
      source = 'partial';
      cwes = uniqueSorted([...outcome.raw.matchAll(/"cwe"\s*:\s*"(CWE-\d+)"/g)].map((x) => x[1]!));
      if (verdict === 'vulnerable') {
        const confs = [...outcome.raw.matchAll(/"confidence"\s*:\s*([01](?:\.\d+)?)/g)].map((x) => Number(x[1]));
        score = 0.5 + 0.5 * (confs.length > 0 ? Math.max(...confs) : 0);
      }
    }
  }
  const predicted = verdict === 'vulnerable' ? 1 : 0;
  return {
    sample_id: sample.id,
    verdict,
    verdict_source: source,
    predicted,
    correct: predicted === sample.label,
    cwes,
    lines,
    score,
    status: outcome.status,
    schema_valid: schemaValid,
    grounded: outcome.status === 'grounded',
    completeness,
    error: outcome.error ?? null,
    prompt_tokens: outcome.usage.promptTokens,
    completion_tokens: outcome.usage.completionTokens,
    lines_shown: outcome.linesShown,
    raw: outcome.raw,
    seconds: outcome.seconds,
  };
}

/** A request that failed outright (endpoint down, refused): recorded, never fatal to the run. */
export function failedPrediction(sample: SuiteSample, error: string, seconds: number): Prediction {
  return {
    sample_id: sample.id,
    verdict: null,
    verdict_source: 'none',
    predicted: 0,
    correct: sample.label === 0,
    cwes: [],
    lines: [],
    score: 0,
    status: 'error',
    schema_valid: false,
    grounded: false,
    completeness: null,
    error,
    prompt_tokens: 0,
    completion_tokens: 0,
    lines_shown: 0,
    raw: '',
    seconds,
  };
}
