import { codeHash } from '../corpus/normalize.js';
import { squeeze } from '../report/grounding.js';
import { sha256 } from '../util/hash.js';

/**
 * Identities of a finding that do not depend on line numbers, so a finding keeps its identity
 * when code elsewhere in the file moves it up or down (SARIF partialFingerprints, baselines):
 * - `finesec/v1`: the file, the function's normalised code (comments and layout ignored), the
 *   CWE and the normalised fragment; changes when the function itself changes.
 * - `finesecFragment/v1`: the file, the function's name, the CWE and the normalised fragment;
 *   survives edits inside the same function that leave the fragment as it was.
 * Identical findings in one file (two copies of a function) get occurrence suffixes :1, :2, ...
 */
export const PRIMARY_FINGERPRINT = 'finesec/v1';
export const FRAGMENT_FINGERPRINT = 'finesecFragment/v1';

export interface FingerprintInput {
  file: string;
  functionName: string;
  /** The whole function's code (not the part a split analysed). */
  functionCode: string;
  cwe: string;
  fragment: string;
}

export function normalisedFragment(fragment: string): string {
  return fragment
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map(squeeze)
    .filter((l) => l !== '')
    .join('\n');
}

export function fingerprintBases(f: FingerprintInput): Record<string, string> {
  const fragment = normalisedFragment(f.fragment);
  const hash = (parts: string[]): string => sha256(parts.join('\u0000')).slice(0, 32);
  return {
    [PRIMARY_FINGERPRINT]: hash([PRIMARY_FINGERPRINT, f.file, codeHash(f.functionCode), f.cwe, fragment]),
    [FRAGMENT_FINGERPRINT]: hash([FRAGMENT_FINGERPRINT, f.file, f.functionName, f.cwe, fragment]),
  };
}

/** Adds the occurrence suffix to each key's value, in the order given (call with findings in a stable order). */
export function assignFingerprints(bases: Array<Record<string, string>>): Array<Record<string, string>> {
  const seen = new Map<string, number>();
  return bases.map((b) => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(b)) {
      const id = `${key}=${value}`;
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      out[key] = `${value}:${n}`;
    }
    return out;
  });
}
