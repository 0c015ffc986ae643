import { getCwe, isAncestor, normaliseCweId, type CweEntry } from '../../cwe/index.js';
import type { Sample } from '../../kb/samples.js';
import type { Finding, Severity, VulnerabilityReport } from '../../report/schema.js';
import { parseReport } from '../../report/validate.js';
import { sha256 } from '../../util/hash.js';
import {
  errorResponse,
  noUsage,
  type CallContext,
  type CallOptions,
  type ProviderResponse,
  type TeacherPrompt,
  type TeacherProvider,
} from '../provider.js';

/** Bumped whenever the reports built from labels change. */
export const referenceVersion = 'reference-v1';

/**
 * The offline teacher: writes knowledge from a sample's ground truth instead of asking a model.
 * Synthetic samples carry a full report (samples.meta.report); for other datasets a report is
 * built from the label, the CWE catalog entry and the flaw lines. Recorded as not an LLM. Samples
 * without a label (or a vulnerable one without a catalogued CWE or flaw lines) are refused.
 */
export class ReferenceProvider implements TeacherProvider {
  readonly kind = 'reference' as const;
  readonly model = referenceVersion;
  readonly isLlm = false;
  readonly needsLabels = true;

  id(): string {
    return 'reference';
  }

  request(_prompt: TeacherPrompt, context: CallContext, _options: CallOptions): unknown {
    const s = context.sample;
    if (!s) return { sample: null };
    return {
      builder: referenceVersion,
      code: sha256(s.code),
      label: s.label,
      cwes: s.cwes,
      flawLines: s.flaw_lines,
      functionName: s.function_name,
      report: s.meta.report ?? null,
    };
  }

  async callApi(_prompt: TeacherPrompt, context: CallContext, _options: CallOptions): Promise<ProviderResponse> {
    if (!context.sample) return errorResponse('the reference teacher needs the sample', 'refused');
    const built = referenceReport(context.sample);
    if ('refused' in built) return errorResponse(`reference teacher: sample ${context.sample.id}: ${built.refused}`, 'refused');
    return { output: JSON.stringify(built.report), tokenUsage: { ...noUsage }, cost: 0, cached: false };
  }
}

export type ReferenceResult = { report: VulnerabilityReport } | { refused: string };

export function referenceReport(sample: Pick<Sample, 'code' | 'label' | 'cwes' | 'flaw_lines' | 'function_name' | 'meta'>): ReferenceResult {
  const stored = sample.meta.report;
  if (stored !== undefined) {
    const parsed = parseReport(stored);
    if (!parsed.ok) return { refused: `its stored report is invalid: ${parsed.problems[0]!.message}` };
    return { report: parsed.report };
  }
  if (sample.label === null) return { refused: 'it has no label' };
  if (sample.label === 0) {
    const cwe = sample.cwes.map((c) => normaliseCweId(c)).find((c) => c !== undefined);
    return {
      report: {
        verdict: 'not_vulnerable',
        findings: [],
        reasoning: [
          cwe
            ? `The dataset labels this function as not vulnerable: it is the safe or fixed counterpart of a ${cwe} example.`
            : 'The dataset labels this function as not vulnerable.',
        ],
      },
    };
  }
  const entry = sample.cwes.map((c) => getCwe(c)).find((e): e is CweEntry => e !== undefined);
  if (!entry) return { refused: `none of its CWE labels is in the catalog (${sample.cwes.join(', ') || 'none'})` };
  const lines = sample.code.replace(/\r\n?/g, '\n').split('\n');
  const flaw = [...new Set(sample.flaw_lines)]
    .filter((n) => Number.isInteger(n) && n >= 1 && n <= lines.length && lines[n - 1]!.trim() !== '')
    .sort((a, b) => a - b);
  if (flaw.length === 0) return { refused: 'it is labelled vulnerable but has no flaw lines inside the code to ground a finding on' };
  return { report: reportFromLabels(sample, entry, lines, flaw) };
}

function reportFromLabels(
  sample: Pick<Sample, 'cwes' | 'function_name'>,
  entry: CweEntry,
  lines: string[],
  flaw: number[],
): VulnerabilityReport {
  // The fragment is the first run of consecutive flaw lines: verbatim, so grounding finds it.
  let runEnd = 0;
  while (runEnd + 1 < flaw.length && flaw[runEnd + 1] === flaw[runEnd]! + 1) runEnd++;
  let fragment = lines.slice(flaw[0]! - 1, flaw[runEnd]!).join('\n').trim();
  if (fragment.length > 2000) fragment = lines[flaw[0]! - 1]!.trim().slice(0, 2000);
  const first = flaw[0]!;
  const last = flaw[flaw.length - 1]!;
  const where = first === last ? `line ${first}` : `lines ${first}-${last}`;
  const name = entry.name.length > 200 ? entry.name.slice(0, 199) + '…' : entry.name;
  const other = sample.cwes.map((c) => normaliseCweId(c)).filter((c) => c !== undefined && c !== entry.id);
  const finding: Finding = {
    cwe: entry.id,
    title: name,
    severity: severityOf(entry.id),
    location: { function: (sample.function_name ?? guessFunctionName(lines) ?? '').slice(0, 200), start_line: first, end_line: last },
    fragment,
    root_cause: clip(entry.description, 1000),
    trigger: clip(`Execution reaches ${where} with data that exercises the flagged code (the dataset marks where the flaw is, not which inputs trigger it).`, 1000),
    impact: clip(`The consequences of ${entry.id} (${entry.name}) follow: depending on the data, integrity, confidentiality or availability of the program is affected.`, 1000),
    remediation: clip(`Change the flagged code so that ${lowerFirst(entry.description.replace(/\.$/, ''))} can no longer happen.`, 1000),
    evidence: flaw.slice(0, 20).map((line) => ({ line, step: clip(`Marked as part of the flaw by the dataset: ${lines[line - 1]!.trim()}`, 400) })),
    confidence: 1,
  };
  const reasoning = [
    clip(`The dataset labels this function as vulnerable to ${entry.id} (${entry.name}).`, 600),
    clip(`The flaw is marked on ${where}: ${lines[first - 1]!.trim()}`, 600),
    clip(entry.description, 600),
  ];
  if (other.length) reasoning.push(clip(`The labels also name ${other.join(', ')}.`, 600));
  return { verdict: 'vulnerable', findings: [finding], reasoning };
}

/** Memory corruption, command injection and format strings are high; everything else medium. */
function severityOf(id: string): Severity {
  const high = ['CWE-119', 'CWE-416', 'CWE-415', 'CWE-78', 'CWE-77', 'CWE-134', 'CWE-787'];
  return high.some((h) => h === id || isAncestor(h, id)) ? 'high' : 'medium';
}

function guessFunctionName(lines: string[]): string | undefined {
  for (const line of lines.slice(0, 5)) {
    const m = /([A-Za-z_][A-Za-z0-9_:~]*)\s*\(/.exec(line);
    if (m && !/^(if|for|while|switch|return|sizeof)$/.test(m[1]!)) return m[1];
  }
  return undefined;
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
