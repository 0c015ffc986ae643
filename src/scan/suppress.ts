import { readFileSync } from 'node:fs';
import { normaliseCweId } from '../cwe/index.js';
import { InputError, errorMessage } from '../util/errors.js';
import { compileGlob, type CompiledGlob } from './glob.js';
import type { ScanFinding } from './types.js';

/**
 * Suppressions, each with the reason that ends up in the output:
 * - inline, on the finding's line or the line above:
 *     `// finesec-ignore CWE-476: checked by the caller`   (also in a block comment)
 *     `// finesec-ignore CWE-476,CWE-690: reason`  and  `// finesec-ignore: reason` (any CWE)
 * - a suppressions file (`.finesec-ignore` in the scan root, or --suppressions FILE), one rule a line:
 *     GLOB  CWE-ID[,CWE-ID]|*  REASON...
 *   e.g. `legacy/**  CWE-120  rewritten in v3, tracked in #42`; '#' starts a comment line.
 */
export const SUPPRESSIONS_FILE = '.finesec-ignore';

export interface InlineSuppression {
  line: number;
  /** undefined: every CWE. */
  cwes?: ReadonlySet<string>;
  reason: string;
}

export interface FileSuppression {
  glob: CompiledGlob;
  cwes?: ReadonlySet<string>;
  reason: string;
  where: string;
}

const INLINE = /(?:\/\/|\/\*)\s*finesec-ignore\b(?<rest>[^\n]*)/;

/** Inline suppression comments of one file, and problems with them (a bad CWE, no reason). */
export function parseInlineSuppressions(text: string): { rules: InlineSuppression[]; problems: Array<{ line: number; message: string }> } {
  const rules: InlineSuppression[] = [];
  const problems: Array<{ line: number; message: string }> = [];
  if (!text.includes('finesec-ignore')) return { rules, problems };
  text.split('\n').forEach((lineText, i) => {
    const m = INLINE.exec(lineText);
    if (!m) return;
    const rest = m.groups!.rest!.replace(/\*\/.*$/, '').trim();
    const colon = rest.indexOf(':');
    const head = (colon === -1 ? rest : rest.slice(0, colon)).trim();
    const reason = colon === -1 ? '' : rest.slice(colon + 1).trim();
    const line = i + 1;
    let cwes: Set<string> | undefined;
    if (head !== '' && head !== '*') {
      cwes = new Set();
      for (const token of head.split(/[\s,]+/).filter(Boolean)) {
        const id = normaliseCweId(token);
        if (!id) {
          problems.push({ line, message: `finesec-ignore: "${token}" is not a CWE id (expected e.g. "// finesec-ignore CWE-476: reason")` });
          return;
        }
        cwes.add(id);
      }
    }
    if (reason === '') problems.push({ line, message: 'finesec-ignore without a reason (write "// finesec-ignore CWE-N: why")' });
    rules.push({ line, ...(cwes ? { cwes } : {}), reason: reason || '(no reason given)' });
  });
  return { rules, problems };
}

/** Reads a suppressions file; a malformed line is an InputError naming it. */
export function readSuppressionsFile(path: string): FileSuppression[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read the suppressions file (${errorMessage(err)})`, err);
  }
  return parseSuppressionsFile(text, path);
}

export function parseSuppressionsFile(text: string, path: string): FileSuppression[] {
  const out: FileSuppression[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)\s+(.+)$/.exec(line);
    const where = `${path}:${i + 1}`;
    if (!m) throw new InputError(`${where}: expected "GLOB CWE-ID|* REASON", got "${line}"`);
    let cwes: Set<string> | undefined;
    if (m[2] !== '*') {
      cwes = new Set();
      for (const token of m[2]!.split(',').filter(Boolean)) {
        const id = normaliseCweId(token);
        if (!id) throw new InputError(`${where}: "${token}" is not a CWE id (expected e.g. CWE-476, or * for any)`);
        cwes.add(id);
      }
    }
    out.push({ glob: compileGlob(m[1]!), ...(cwes ? { cwes } : {}), reason: m[3]!.trim(), where });
  });
  return out;
}

/** The suppression covering a finding, if any: inline (its line or the line above) first, then the file's rules. */
export function suppressionFor(
  finding: Pick<ScanFinding, 'file' | 'cwe' | 'region'>,
  inline: readonly InlineSuppression[],
  fileRules: readonly FileSuppression[],
): ScanFinding['suppression'] {
  const line = finding.region.startLine;
  for (const rule of inline) {
    if ((rule.line === line || rule.line === line - 1) && (!rule.cwes || rule.cwes.has(finding.cwe))) {
      return { kind: 'inSource', reason: rule.reason, where: `${finding.file}:${rule.line}` };
    }
  }
  for (const rule of fileRules) {
    if (rule.glob.test(finding.file) && (!rule.cwes || rule.cwes.has(finding.cwe))) {
      return { kind: 'external', reason: rule.reason, where: rule.where };
    }
  }
  return undefined;
}
