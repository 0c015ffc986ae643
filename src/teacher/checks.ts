import { normaliseCweId, relatedCwe } from '../cwe/index.js';
import type { RejectionReason } from '../kb/knowledge.js';
import type { Sample } from '../kb/samples.js';
import { groundReport } from '../report/grounding.js';
import type { VulnerabilityReport } from '../report/schema.js';
import { parseReport } from '../report/validate.js';
import { extractJson } from './extract.js';

/**
 * The checks every teacher answer goes through, in order: JSON extraction and the report schema
 * (format; a failure earns one repair request), grounding in the code, then agreement with the
 * sample's ground truth. Reason codes: not_json, schema, grounding.<problem>, truth.verdict, truth.cwe.
 */
export type FormatCheck = { ok: true; report: VulnerabilityReport } | { ok: false; reasons: RejectionReason[] };

const maxSchemaReasons = 5;

export function checkFormat(output: string, finishReason?: string): FormatCheck {
  const cut = finishReason === 'length' || finishReason === 'max_tokens' ? ' (the answer was cut at the token limit)' : '';
  const extracted = extractJson(output);
  if (!extracted.ok) return { ok: false, reasons: [{ code: 'not_json', detail: extracted.problem + cut }] };
  const parsed = parseReport(extracted.value);
  if (parsed.ok) return { ok: true, report: parsed.report };
  const reasons = parsed.problems.slice(0, maxSchemaReasons).map((p) => ({ code: 'schema', detail: p.message + cut }));
  if (parsed.problems.length > maxSchemaReasons) reasons.push({ code: 'schema', detail: `and ${parsed.problems.length - maxSchemaReasons} more schema problems` });
  return { ok: false, reasons };
}

export function checkGrounding(report: VulnerabilityReport, code: string): RejectionReason[] {
  return groundReport(report, code).problems.map((p) => ({ code: `grounding.${p.code}`, detail: p.message }));
}

export interface GroundTruth {
  verdict: VulnerabilityReport['verdict'];
  /** Labelled CWEs (normalised); empty when the label names none. */
  cwes: string[];
  source: 'report' | 'label';
}

/** The synthetic generator's report when the sample has one, else its label and CWEs; none for unlabelled samples. */
export function groundTruthOf(sample: Pick<Sample, 'label' | 'cwes' | 'meta'>): GroundTruth | undefined {
  const stored = sample.meta.report;
  if (stored !== undefined) {
    const parsed = parseReport(stored);
    if (parsed.ok) {
      return { verdict: parsed.report.verdict, cwes: unique(parsed.report.findings.map((f) => normaliseCweId(f.cwe) ?? f.cwe)), source: 'report' };
    }
  }
  if (sample.label === null) return undefined;
  return {
    verdict: sample.label === 1 ? 'vulnerable' : 'not_vulnerable',
    cwes: sample.label === 1 ? unique(sample.cwes.map((c) => normaliseCweId(c)).filter((c): c is string => c !== undefined)) : [],
    source: 'label',
  };
}

/** The verdict must match; for a vulnerable sample with labelled CWEs, some finding's CWE must be one of them or related in the catalog. */
export function checkAgreement(report: VulnerabilityReport, truth: GroundTruth): RejectionReason[] {
  if (report.verdict !== truth.verdict) {
    return [{ code: 'truth.verdict', detail: `the answer says ${report.verdict}, the ground truth (${truth.source}) says ${truth.verdict}` }];
  }
  if (truth.verdict !== 'vulnerable' || truth.cwes.length === 0) return [];
  const answered = unique(report.findings.map((f) => f.cwe));
  if (answered.some((a) => truth.cwes.some((t) => relatedCwe(a, t)))) return [];
  return [{ code: 'truth.cwe', detail: `${answered.join(', ')} is neither ${truth.cwes.join(' nor ')} nor related in the catalog` }];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
