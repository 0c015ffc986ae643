import { getCwe } from '../cwe/index.js';
import { stableJson } from './stable-json.js';
import { summariseFindings } from './summary.js';
import type { ScanFinding, ScanResult } from './types.js';

/**
 * The scan as JSON for programs: the same content as the Markdown report with stable keys. Its
 * findings (and suppressed findings) carry their fingerprints, so it also serves as a baseline.
 */
export const SCAN_JSON_FORMAT = 'finesec-scan';
export const SCAN_JSON_VERSION = 1;

export function toScanJson(result: ScanResult): Record<string, unknown> {
  const summary = summariseFindings(result.findings);
  return {
    format: SCAN_JSON_FORMAT,
    version: SCAN_JSON_VERSION,
    tool: { name: 'finesec', version: result.toolVersion },
    root: result.root,
    paths: result.paths,
    model: result.model,
    successful: result.successful,
    summary: {
      findings: summary.total,
      by_severity: summary.bySeverity,
      by_cwe: summary.byCwe,
      suppressed: result.suppressed.length,
      baseline: result.baseline ?? null,
      stats: result.stats,
    },
    findings: result.findings.map(findingJson),
    suppressed: result.suppressed.map(findingJson),
    prefilter: result.prefilter ?? null,
    notifications: result.notifications,
  };
}

export function renderJson(result: ScanResult): string {
  return stableJson(toScanJson(result));
}

function findingJson(f: ScanFinding): Record<string, unknown> {
  return {
    cwe: f.cwe,
    cwe_name: getCwe(f.cwe)?.name ?? null,
    title: f.title,
    severity: f.severity,
    confidence: f.confidence,
    file: f.file,
    function: f.function,
    function_lines: [f.functionStartLine, f.functionEndLine],
    region: {
      start_line: f.region.startLine,
      end_line: f.region.endLine,
      ...(f.region.startColumn !== undefined ? { start_column: f.region.startColumn, end_column: f.region.endColumn } : {}),
    },
    location: { start_line: f.location.startLine, end_line: f.location.endLine },
    fragment: f.fragment,
    root_cause: f.root_cause,
    trigger: f.trigger,
    impact: f.impact,
    remediation: f.remediation,
    evidence: f.evidence,
    fix: f.fix ?? null,
    fingerprints: f.fingerprints,
    suppression: f.suppression ?? null,
    prefilter: f.prefilter ?? null,
    cached: f.cached,
  };
}
