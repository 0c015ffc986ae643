import { codeLines } from '../runtime/report-prompt.js';

/**
 * Functions too long for one request are analysed in consecutive parts. A part is a run of whole
 * lines; cuts go after a line that ends a statement or block (`;`, `{`, `}`) or a blank line when
 * one is in the second half of the part, so parts rarely split a statement.
 */
export interface CodePart {
  code: string;
  /** 1-based line of the part's first line within the code it was cut from. */
  firstLine: number;
  lineCount: number;
}

export function wholeCode(code: string): CodePart {
  return { code, firstLine: 1, lineCount: codeLines(code).length };
}

/** Parts of at most `maxLines` lines each. */
export function splitByLines(code: string, maxLines: number): CodePart[] {
  const lines = codeLines(code);
  if (lines.length <= maxLines) return [wholeCode(code)];
  return cut(lines, () => maxLines);
}

export type FitSplit = { ok: true; parts: CodePart[] } | { ok: false; line: number };

/**
 * Parts each of which `fits` (a prompt-size test). Fails, naming the line, when a line does not
 * fit even alone.
 */
export function splitToFit(code: string, fits: (partCode: string) => boolean): FitSplit {
  const lines = codeLines(code);
  let failedAt = 0;
  const parts = cut(lines, (start) => {
    // Largest k such that lines[start, start + k) fits (binary search; fits is monotone in k).
    let lo = 0;
    let hi = lines.length - start;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(lines.slice(start, start + mid).join('\n'))) lo = mid;
      else hi = mid - 1;
    }
    if (lo === 0) failedAt = start + 1;
    return lo;
  });
  return failedAt > 0 ? { ok: false, line: failedAt } : { ok: true, parts };
}

function cut(lines: string[], room: (start: number) => number): CodePart[] {
  const parts: CodePart[] = [];
  let start = 0;
  while (start < lines.length) {
    const max = room(start);
    if (max <= 0) return parts;
    let take = Math.min(max, lines.length - start);
    if (start + take < lines.length) take = boundaryWithin(lines, start, take);
    parts.push({ code: lines.slice(start, start + take).join('\n'), firstLine: start + 1, lineCount: take });
    start += take;
  }
  return parts;
}

/** The last good cut in the second half of lines[start, start + take), or take itself. */
function boundaryWithin(lines: string[], start: number, take: number): number {
  for (let k = take; k > Math.ceil(take / 2); k--) {
    const line = lines[start + k - 1]!.trimEnd();
    if (line === '' || /[;{}]$/.test(line)) return k;
  }
  return take;
}
