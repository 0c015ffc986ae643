import { normaliseCweId } from '../../cwe/index.js';
import type { ToolFinding } from '../prediction.js';
import { runTool, toolVersion } from './tool.js';
import { summarise, type Baseline, type BaselineAnalysis } from './types.js';

/**
 * flawfinder as a baseline: `flawfinder --csv --dataonly --quiet --minlevel=0` on the sample.
 *
 * Mapping (decided here): "vulnerable" when any hit has risk level >= 3 (flawfinder's own scale,
 * 0 no risk .. 5 high; the Level column, which flawfinder lowers itself e.g. for constant format
 * strings). Level 3+ are calls risky in themselves: unbounded copies and formatting (strcpy,
 * strcat, sprintf: 4; gets: 5), non-constant format strings (4), command execution (4), TOCTOU
 * races (4), getenv and weak randomness (3). Levels 1-2 are declarations and bounded calls (every
 * fixed-size char array is level 2, memcpy and strncpy 1-2, strlen 1) that appear as often in
 * fixed code as in vulnerable code; counting them flags nearly every function that touches a
 * buffer. `flawfinder:N` picks another threshold.
 * CWEs: every CWE the counted hits name ("CWE-119!/CWE-120" gives both). Score: the highest level
 * over all hits / 5.
 */
export const FLAWFINDER_DEFAULT_MIN_LEVEL = 3;

const TIMEOUT_MS = 120_000;

export function flawfinder(minLevel = FLAWFINDER_DEFAULT_MIN_LEVEL): Baseline {
  if (!Number.isInteger(minLevel) || minLevel < 0 || minLevel > 5) throw new Error(`flawfinder level must be an integer 0..5, got ${minLevel}`);
  return {
    name: minLevel === FLAWFINDER_DEFAULT_MIN_LEVEL ? 'flawfinder' : `flawfinder:${minLevel}`,
    mapping:
      `vulnerable when flawfinder reports any hit of risk level >= ${minLevel} (of 0-5); CWEs from the counted hits' CWE column; ` +
      'score = highest level / 5.',
    version() {
      return toolVersion('flawfinder', ['--version']);
    },
    async analyze(file): Promise<BaselineAnalysis> {
      const run = await runTool('flawfinder', ['--csv', '--dataonly', '--quiet', '--minlevel=0', file.name], { cwd: file.dir, timeoutMs: TIMEOUT_MS });
      if (run.timedOut) return summarise([], 0, `flawfinder timed out after ${TIMEOUT_MS / 1000}s`, run.stderr);
      if (run.code !== 0) return summarise([], 0, `flawfinder exited ${run.code}: ${run.stderr.trim().split('\n')[0] ?? ''}`, run.stderr + run.stdout);
      let findings: ToolFinding[];
      try {
        findings = parseFlawfinderCsv(run.stdout, minLevel);
      } catch (err) {
        return summarise([], 0, `flawfinder output not understood: ${(err as Error).message}`, run.stdout);
      }
      const score = Math.max(0, ...findings.map((f) => (Number.isFinite(Number(f.severity)) ? Number(f.severity) / 5 : 0)));
      return summarise(findings, score, null, run.stdout.trim());
    },
  };
}

/**
 * flawfinder's CSV hits. A hit naming several CWEs becomes one finding per CWE (same line and
 * level) so every named CWE is credited.
 */
export function parseFlawfinderCsv(csv: string, minLevel = FLAWFINDER_DEFAULT_MIN_LEVEL): ToolFinding[] {
  const rows = parseCsv(csv);
  if (rows.length === 0) return [];
  const header = rows[0]!;
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`no "${name}" column in the CSV header`);
    return i;
  };
  const [line, level, name, warning, cwes] = [col('Line'), col('Level'), col('Name'), col('Warning'), col('CWEs')];
  const findings: ToolFinding[] = [];
  for (const row of rows.slice(1)) {
    if (row.length === 1 && row[0] === '') continue;
    const lvl = Number(row[level]);
    const lineNo = Number(row[line]);
    const ids = [...(row[cwes] ?? '').matchAll(/CWE-\d+/g)].map((m) => normaliseCweId(m[0])).filter((c): c is string => c !== undefined);
    const base = {
      rule: row[name] ?? 'unknown',
      severity: String(lvl),
      line: Number.isInteger(lineNo) && lineNo > 0 ? lineNo : null,
      message: row[warning] ?? '',
      counts: Number.isFinite(lvl) && lvl >= minLevel,
    };
    if (ids.length === 0) findings.push({ ...base, cwe: null });
    for (const cwe of [...new Set(ids)]) findings.push({ ...base, cwe });
  }
  return findings;
}

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
