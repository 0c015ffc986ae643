import { getCwe } from '../cwe/index.js';
import type { Severity } from '../report/schema.js';
import { SEVERITIES, type ScanFinding, type ScanResult } from './types.js';

/** Counts by severity (every severity present, worst first) and by CWE (most frequent first). */
export interface FindingSummary {
  total: number;
  bySeverity: Record<Severity, number>;
  byCwe: Array<{ cwe: string; name: string | null; count: number }>;
}

export function summariseFindings(findings: readonly ScanFinding[]): FindingSummary {
  const bySeverity = { critical: 0, high: 0, medium: 0, low: 0 } as Record<Severity, number>;
  const byCwe = new Map<string, number>();
  for (const f of findings) {
    bySeverity[f.severity]++;
    byCwe.set(f.cwe, (byCwe.get(f.cwe) ?? 0) + 1);
  }
  return {
    total: findings.length,
    bySeverity,
    byCwe: [...byCwe.entries()]
      .map(([cwe, count]) => ({ cwe, name: getCwe(cwe)?.name ?? null, count }))
      .sort((a, b) => b.count - a.count || Number(a.cwe.slice(4)) - Number(b.cwe.slice(4))),
  };
}

/** One line for the terminal: what was scanned and what was found. */
export function summaryLine(result: ScanResult): string {
  const s = result.stats;
  const counts = summariseFindings(result.findings);
  const severities = SEVERITIES.filter((k) => counts.bySeverity[k] > 0).map((k) => `${counts.bySeverity[k]} ${k}`);
  const extra = [
    result.suppressed.length > 0 ? `${result.suppressed.length} suppressed` : undefined,
    result.baseline ? `${result.baseline.matched} in baseline` : undefined,
  ].filter(Boolean);
  return (
    `scanned ${s.files.scanned} file${s.files.scanned === 1 ? '' : 's'}, ${s.functions.analysed} function${s.functions.analysed === 1 ? '' : 's'} ` +
    `(${s.functions.cacheHits} cache hit${s.functions.cacheHits === 1 ? '' : 's'}, ${s.functions.modelCalls} model call${s.functions.modelCalls === 1 ? '' : 's'}) in ${s.seconds.toFixed(1)}s: ` +
    `${counts.total} finding${counts.total === 1 ? '' : 's'}${severities.length ? ` (${severities.join(', ')})` : ''}` +
    (extra.length ? `; ${extra.join(', ')}` : '')
  );
}
