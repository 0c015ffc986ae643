import { basename, dirname } from 'node:path';
import { parseBaseline } from '../eval/baselines/index.js';
import type { Language } from '../kb/samples.js';
import { relatedCwe } from '../cwe/index.js';
import { UsageError } from '../util/errors.js';
import type { PrefilterHit, ScanFinding, ScanNotification } from './types.js';

/**
 * `--prefilter cppcheck|flawfinder`: the analyzer runs on every file first, with the same
 * mapping as the eval baselines (src/eval/baselines: cppcheck errors and warnings, flawfinder
 * risk level 3 and up count as hits). Its hits then either choose the functions the student
 * sees (`--prefilter-mode only`) or go into the student's prompt (`hints`); either way the
 * output says, per finding, whether a hit backs it.
 */
export const PREFILTER_TOOLS = ['cppcheck', 'flawfinder'] as const;
export type PrefilterTool = (typeof PREFILTER_TOOLS)[number];
export type PrefilterMode = 'only' | 'hints';

export interface PrefilterRun {
  tool: string;
  version: string;
  /** Counted hits per file (relative path), in line order. */
  hits: Map<string, PrefilterHit[]>;
  notifications: ScanNotification[];
}

export async function runPrefilter(
  tool: PrefilterTool,
  files: ReadonlyArray<{ path: string; rel: string; language: Language }>,
  onFile: () => void = () => {},
): Promise<PrefilterRun> {
  const analyzer = parseBaseline(tool, 'scan');
  const version = analyzer.version();
  if (!version) throw new UsageError(`scan: --prefilter ${tool}: ${tool} is not installed or not on PATH (e.g. apt-get install ${tool})`);
  const hits = new Map<string, PrefilterHit[]>();
  const notifications: ScanNotification[] = [];
  for (const file of files) {
    const analysis = await analyzer.analyze({ path: file.path, name: basename(file.path), dir: dirname(file.path) }, file.language);
    if (analysis.error) notifications.push({ level: 'warning', id: 'prefilter-error', file: file.rel, message: `${tool}: ${analysis.error}` });
    const counted = analysis.findings
      .filter((f) => f.counts && f.line !== null)
      .map((f) => ({ line: f.line!, rule: f.rule, severity: f.severity, cwe: f.cwe, message: f.message }))
      .sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
    if (counted.length > 0) hits.set(file.rel, dedupeHits(counted));
    onFile();
  }
  return { tool, version, hits, notifications };
}

/** flawfinder repeats a hit once per CWE it names; keep one per (line, rule, cwe). */
function dedupeHits(hits: PrefilterHit[]): PrefilterHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const key = `${h.line}|${h.rule}|${h.cwe}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function hitsWithin(hits: readonly PrefilterHit[] | undefined, startLine: number, endLine: number): PrefilterHit[] {
  return (hits ?? []).filter((h) => h.line >= startLine && h.line <= endLine);
}

/**
 * A hit backs a finding when it is on a line the finding names: inside its location or fragment,
 * or on one of its evidence lines.
 */
export function backs(hit: PrefilterHit, finding: Pick<ScanFinding, 'location' | 'region' | 'evidence'>): boolean {
  const inRange = (a: number, b: number): boolean => hit.line >= a && hit.line <= b;
  return (
    inRange(finding.location.startLine, finding.location.endLine) ||
    inRange(finding.region.startLine, finding.region.endLine) ||
    finding.evidence.some((e) => e.line === hit.line)
  );
}

/** Whether the analyzer's CWE and the student's describe the same weakness (for the agreement note). */
export function sameWeakness(hit: PrefilterHit, cwe: string): boolean {
  return hit.cwe !== null && relatedCwe(hit.cwe, cwe);
}
