import type { Severity } from '../report/schema.js';

/** What a scan produced, independent of the output format (SARIF, Markdown, JSON). */

export type NotificationLevel = 'error' | 'warning' | 'note';

/** Something the scan could not do or chose not to do, always with its reason. */
export interface ScanNotification {
  level: NotificationLevel;
  /** Stable kind, e.g. "skipped-binary", "function-split", "model-error". */
  id: string;
  message: string;
  /** Relative to the scan root. */
  file?: string;
  line?: number;
}

export interface PrefilterHit {
  line: number;
  rule: string;
  severity: string;
  cwe: string | null;
  message: string;
}

export interface FindingRegion {
  startLine: number;
  endLine: number;
  /** 1-based, UTF-16 units; set when the fragment was found verbatim. endColumn is exclusive. */
  startColumn?: number;
  endColumn?: number;
}

export interface ScanFinding {
  /** Relative to the scan root, '/'-separated. */
  file: string;
  function: string;
  functionStartLine: number;
  functionEndLine: number;
  cwe: string;
  title: string;
  severity: Severity;
  confidence: number;
  /** Where the vulnerable fragment is, in file lines. */
  region: FindingRegion;
  /** The report's location, in file lines. */
  location: { startLine: number; endLine: number };
  fragment: string;
  root_cause: string;
  trigger: string;
  impact: string;
  remediation: string;
  /** Evidence steps with file lines, in order. */
  evidence: Array<{ line: number; step: string }>;
  fix?: string;
  /** Stable identities that survive edits elsewhere in the file (see fingerprint.ts). */
  fingerprints: Record<string, string>;
  /** Set when an inline comment or the suppressions file covers this finding. */
  suppression?: { kind: 'inSource' | 'external'; reason: string; where: string };
  /** With --prefilter: the analyzer's hits in this function and whether one backs this finding. */
  prefilter?: {
    tool: string;
    /** Some hit is on a line the finding names (its location, fragment or evidence). */
    agrees: boolean;
    /** One of those hits names the same or a related CWE. */
    sameWeakness: boolean;
    /** The hits that back this finding. */
    backing: PrefilterHit[];
    /** Every hit in the function. */
    hits: PrefilterHit[];
  };
  /** The report came from the scan cache. */
  cached: boolean;
}

export interface PrefilterSummary {
  tool: string;
  version: string;
  mode: 'only' | 'hints';
  /** Counted hits (the analyzer's own threshold) inside functions. */
  hits: number;
  hitsOutsideFunctions: number;
  functionsFlagged: number;
  /** Findings an analyzer hit in the same lines backs. */
  agreed: number;
  /** Findings no analyzer hit backs. */
  studentOnly: number;
  /** Hits in analysed functions that no finding covers. */
  toolOnly: number;
  toolOnlyHits: Array<PrefilterHit & { file: string; function: string }>;
}

export interface ScanStats {
  files: { found: number; scanned: number; skipped: number; gitignored: number; vendored: number; filtered: number; unchanged: number };
  functions: { total: number; analysed: number; cacheHits: number; modelCalls: number; split: number; skipped: number; notFlagged: number };
  findings: { reported: number; suppressed: number; baseline: number; dropped: number };
  seconds: number;
}

export interface ScanResult {
  toolVersion: string;
  /** Absolute scan root; every file path is relative to it. */
  root: string;
  paths: string[];
  model: { spec: string; id: string };
  /** New (not in the baseline), unsuppressed findings. */
  findings: ScanFinding[];
  /** Findings covered by a suppression, with the reason (not counted for --fail-on). */
  suppressed: ScanFinding[];
  baseline?: { file: string; fingerprints: number; matched: number };
  notifications: ScanNotification[];
  prefilter?: PrefilterSummary;
  stats: ScanStats;
  /** False when any function could not be analysed because of an error (not a skip). */
  successful: boolean;
}

export const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3, critical: 4 };
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
