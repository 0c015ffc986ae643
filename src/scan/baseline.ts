import { readFileSync } from 'node:fs';
import { InputError, errorMessage } from '../util/errors.js';
import type { ScanFinding } from './types.js';

/**
 * `--baseline FILE`: an earlier `finesec scan` output (SARIF or JSON). Its findings are known;
 * only findings none of whose fingerprints appear in it are reported as new.
 */
export interface Baseline {
  file: string;
  /** "key=value" pairs of every finding in the baseline (reported or suppressed). */
  fingerprints: ReadonlySet<string>;
  findings: number;
}

export function readBaseline(path: string): Baseline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read the baseline (${errorMessage(err)})`, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: the baseline is not JSON (${errorMessage(err).split('\n')[0]}); expected an earlier finesec scan output (SARIF or JSON)`);
  }
  const lists = fingerprintLists(value);
  if (!lists) throw new InputError(`${path}: not a finesec scan output (expected SARIF with runs[].results or JSON with findings[])`);
  const set = new Set<string>();
  for (const fp of lists) for (const [k, v] of Object.entries(fp)) if (typeof v === 'string') set.add(`${k}=${v}`);
  return { file: path, fingerprints: set, findings: lists.length };
}

function fingerprintLists(value: unknown): Array<Record<string, unknown>> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { runs?: unknown; findings?: unknown; suppressed?: unknown };
  if (Array.isArray(v.runs)) {
    const out: Array<Record<string, unknown>> = [];
    for (const run of v.runs as Array<{ results?: unknown }>) {
      if (!Array.isArray(run?.results)) return undefined;
      for (const r of run.results as Array<{ partialFingerprints?: Record<string, unknown> }>) out.push(r?.partialFingerprints ?? {});
    }
    return out;
  }
  if (Array.isArray(v.findings)) {
    const all = [...(v.findings as unknown[]), ...(Array.isArray(v.suppressed) ? (v.suppressed as unknown[]) : [])];
    return all.map((f) => ((f as { fingerprints?: Record<string, unknown> })?.fingerprints ?? {}));
  }
  return undefined;
}

export function inBaseline(finding: Pick<ScanFinding, 'fingerprints'>, baseline: Baseline): boolean {
  return Object.entries(finding.fingerprints).some(([k, v]) => baseline.fingerprints.has(`${k}=${v}`));
}
