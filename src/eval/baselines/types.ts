import type { Language } from '../../kb/samples.js';
import type { ToolFinding } from '../prediction.js';

/** What a baseline made of one file, mapped to the same fields a model's prediction has. */
export interface BaselineAnalysis {
  findings: ToolFinding[];
  vulnerable: boolean;
  cwes: string[];
  lines: number[];
  /** Higher means more confident that the file is vulnerable (for VD-S). */
  score: number;
  /** Set when the tool failed on this file (crash, timeout, unparseable output). */
  error: string | null;
  /** The tool's own output (trimmed), kept with the prediction. */
  raw: string;
}

export interface Baseline {
  /** Name in results and RESULT lines. */
  readonly name: string;
  /** One paragraph: which findings count as "vulnerable", how CWEs and the score are read. */
  readonly mapping: string;
  /** The tool's version, or undefined when it is not installed. */
  version(): string | undefined;
  analyze(file: { path: string; name: string; dir: string }, language: Language): Promise<BaselineAnalysis>;
}

/** Turns mapped findings into the verdict fields shared by every baseline. */
export function summarise(findings: ToolFinding[], score: number, error: string | null, raw: string): BaselineAnalysis {
  const counted = findings.filter((f) => f.counts);
  return {
    findings,
    vulnerable: counted.length > 0,
    cwes: [...new Set(counted.map((f) => f.cwe).filter((c): c is string => c !== null))].sort(),
    lines: [...new Set(counted.map((f) => f.line).filter((l): l is number => l !== null))].sort((a, b) => a - b),
    score,
    error,
    raw: raw.length > 20_000 ? raw.slice(0, 20_000) + '\n[truncated]' : raw,
  };
}
