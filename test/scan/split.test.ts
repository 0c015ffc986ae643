import { describe, expect, it } from 'vitest';
import { splitByLines, splitToFit } from '../../src/scan/split.js';

const lines = (n: number): string => Array.from({ length: n }, (_, i) => (i % 3 === 2 ? `    x${i} = f(` : `    y${i} = g(${i});`)).join('\n');

describe('splitting long functions', () => {
  it('cuts by line count, after statement ends when one is in the second half', () => {
    const code = lines(20);
    // Lines 3, 6, 9, ... end mid-statement ("x = f("): a cut after line 9 moves back to line 8.
    const parts = splitByLines(code, 9);
    expect(parts.map((p) => [p.firstLine, p.lineCount])).toEqual([
      [1, 8],
      [9, 9],
      [18, 3],
    ]);
    expect(parts.map((p) => p.code).join('\n')).toBe(code);
    expect(splitByLines(code, 50)).toEqual([{ code, firstLine: 1, lineCount: 20 }]);
  });

  it('cuts by a size test, and names the line that cannot fit alone', () => {
    const code = lines(30);
    const fits = (part: string): boolean => part.length <= 120;
    const r = splitToFit(code, fits);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.parts.every((p) => fits(p.code))).toBe(true);
    expect(r.parts.map((p) => p.code).join('\n')).toBe(code);
    const long = `${lines(3)}\n    ${'z'.repeat(200)};\n${lines(2)}`;
    expect(splitToFit(long, fits)).toEqual({ ok: false, line: 4 });
  });
});
