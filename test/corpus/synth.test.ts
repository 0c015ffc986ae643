import { describe, expect, it } from 'vitest';
import { generateSynth, supportedCwes, templates, allWrappers, type SynthSample } from '../../src/corpus/synth/index.js';
import { getCwe } from '../../src/cwe/index.js';
import { groundReport, squeeze } from '../../src/report/grounding.js';
import { reportSchema } from '../../src/report/schema.js';

/** Enough pairs for every template to meet every wrapper once (templates cycle through wrappers). */
const fullCount = 2 * templates.length * allWrappers.length;
const corpus = generateSynth({ count: fullCount, seed: 2024 });
const pairs = chunkPairs(corpus);

function chunkPairs(samples: SynthSample[]): Array<[SynthSample, SynthSample]> {
  const out: Array<[SynthSample, SynthSample]> = [];
  for (let i = 0; i + 1 < samples.length; i += 2) out.push([samples[i]!, samples[i + 1]!]);
  return out;
}

/** Code with string and character literals blanked, so identifiers and comments can be inspected. */
function withoutLiterals(code: string): string {
  return code.replace(/L?"(?:[^"\\\n]|\\.)*"/g, '""').replace(/L?'(?:[^'\\\n]|\\.)*'/g, "''");
}

describe('generateSynth: determinism', () => {
  it('gives byte-identical output for the same seed and different output for another', () => {
    const a = generateSynth({ count: 80, seed: 42 });
    const b = generateSynth({ count: 80, seed: 42 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = generateSynth({ count: 80, seed: 43 });
    expect(c.map((s) => s.code)).not.toEqual(a.map((s) => s.code));
  });

  it('makes sample i independent of the total count', () => {
    const small = generateSynth({ count: 30, seed: 9 });
    const large = generateSynth({ count: 90, seed: 9 });
    expect(JSON.stringify(large.slice(0, 30))).toBe(JSON.stringify(small));
  });
});

describe('generateSynth: pairs and labels', () => {
  it('returns N samples as consecutive vulnerable/fixed pairs that share everything but the variant', () => {
    expect(corpus).toHaveLength(fullCount);
    expect(new Set(corpus.map((s) => s.id)).size).toBe(corpus.length);
    expect(new Set(pairs.map(([v]) => v.pairId)).size).toBe(pairs.length);
    for (const [v, f] of pairs) {
      expect([v.label, v.variant, f.label, f.variant]).toEqual([1, 'vulnerable', 0, 'fixed']);
      for (const key of ['pairId', 'groupId', 'templateId', 'form', 'wrapper', 'source', 'language', 'charType', 'functionName', 'cwe', 'seed'] as const) {
        expect(f[key], key).toBe(v[key]);
      }
      expect(v.groupId).toBe(`synth/${v.templateId}/${v.wrapper}`);
      expect(v.flawLines.length).toBeGreaterThan(0);
      expect(f.flawLines).toEqual([]);
      expect(f.fixLines.length).toBeGreaterThan(0);
      expect(v.code).not.toBe(f.code);
    }
  });

  it('ends an odd count with a single vulnerable sample and returns nothing for 0', () => {
    const odd = generateSynth({ count: 7, seed: 5 });
    expect(odd.map((s) => s.label)).toEqual([1, 0, 1, 0, 1, 0, 1]);
    expect(odd.filter((s) => s.pairId === odd[6]!.pairId)).toHaveLength(1);
    expect(generateSynth({ count: 0, seed: 5 })).toEqual([]);
    expect(() => generateSynth({ count: -1, seed: 5 })).toThrow(/count must be a non-negative integer/);
    expect(() => generateSynth({ count: 2.5, seed: 5 })).toThrow(/count must be a non-negative integer/);
  });
});

describe('generateSynth: coverage', () => {
  it('has templates for at least 20 CWEs, including the ones the issue asks for, all in the catalog', () => {
    const required = [121, 122, 124, 125, 126, 127, 134, 190, 191, 369, 401, 415, 416, 457, 476, 676, 690, 762, 78, 22].map((n) => `CWE-${n}`);
    expect(supportedCwes().length).toBeGreaterThanOrEqual(20);
    expect(required.filter((c) => !supportedCwes().includes(c))).toEqual([]);
    for (const c of supportedCwes()) expect(getCwe(c), c).toBeDefined();
    expect(new Set(templates.map((t) => t.id)).size).toBe(templates.length);
  });

  it('visits every template with every wrapper, every source it supports, and both languages and character types', () => {
    const combos = new Set(pairs.map(([v]) => `${v.templateId}/${v.wrapper}`));
    expect(combos.size).toBe(templates.length * allWrappers.length);
    for (const t of templates) {
      const mine = pairs.filter(([v]) => v.templateId === t.id).map(([v]) => v);
      expect(new Set(mine.map((s) => s.source)), t.id).toEqual(new Set(t.sources));
      expect(new Set(mine.map((s) => s.language)), t.id).toEqual(new Set(t.languages));
    }
    expect(new Set(corpus.map((s) => s.charType))).toEqual(new Set(['char', 'wchar_t']));
    expect(corpus.filter((s) => s.templateId === 'mismatched-release').every((s) => s.language === 'cpp')).toBe(true);
  });
});

describe('generateSynth: ground-truth reports', () => {
  it('are schema-valid and pass grounding without warnings', () => {
    for (const s of corpus) {
      expect(reportSchema.safeParse(s.report).success, s.id).toBe(true);
      const g = groundReport(s.report, s.code);
      expect(g.problems, `${s.id} ${s.templateId}`).toEqual([]);
      expect(g.warnings, `${s.id} ${s.templateId}`).toEqual([]);
    }
  });

  it('describe the vulnerable variant precisely: CWE, flaw lines, location, source-to-sink evidence, fix', () => {
    for (const [v, f] of pairs) {
      const r = v.report;
      expect(r.verdict).toBe('vulnerable');
      expect(r.findings).toHaveLength(1);
      const finding = r.findings[0]!;
      expect(finding.cwe).toBe(v.cwe);
      expect(finding.confidence).toBe(1);
      const lines = v.code.split('\n');
      const first = Math.min(...v.flawLines);
      const last = Math.max(...v.flawLines);
      expect(finding.fragment).toBe(lines.slice(first - 1, last).join('\n').trimStart());
      expect(finding.location.start_line).toBeLessThanOrEqual(first);
      expect(finding.location.end_line).toBeGreaterThanOrEqual(last);
      expect(v.code, v.id).toMatch(new RegExp(`\\b${finding.location.function}\\(`));
      expect(finding.evidence.length, v.id).toBeGreaterThanOrEqual(2);
      expect(finding.evidence.at(-1)!.line, v.id).toBeGreaterThanOrEqual(finding.location.start_line);
      expect(finding.evidence.at(-1)!.line, v.id).toBeLessThanOrEqual(finding.location.end_line);
      // The fix is the fixed variant's code for those statements.
      const fixedLines = new Set(f.code.split('\n').map(squeeze));
      for (const line of finding.fix!.split('\n')) expect(fixedLines.has(squeeze(line)), `${v.id}: ${line}`).toBe(true);
      expect(r.reasoning.length).toBeGreaterThanOrEqual(3);
      expect(r.reasoning.at(-1)).toContain(v.cwe);
    }
  });

  it('explain the fixed variant as not vulnerable with lines of the fixed code', () => {
    for (const [, f] of pairs) {
      expect(f.report.verdict).toBe('not_vulnerable');
      expect(f.report.findings).toEqual([]);
      expect(f.report.reasoning.length).toBeGreaterThanOrEqual(3);
      const cited = [...f.report.reasoning.slice(1).join(' ').matchAll(/[Ll]ines? (\d+)/g)].map((m) => Number(m[1]));
      expect(cited.length, f.id).toBeGreaterThan(0);
      expect(cited.some((n) => f.fixLines.includes(n)), `${f.id}: ${f.report.reasoning.join(' | ')}`).toBe(true);
    }
  });

  it('name this instance: the function, a variable of the fragment and real sizes, not generic text', () => {
    for (const [v] of pairs) {
      const finding = v.report.findings[0]!;
      const text = [finding.title, finding.root_cause, finding.trigger, finding.remediation, ...finding.evidence.map((e) => e.step)].join(' ');
      const idents = new Set(withoutLiterals(finding.fragment).match(/[A-Za-z_]\w*/g) ?? []);
      const named = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      expect(named.some((n) => [...idents].some((id) => n.includes(id))), `${v.id}: ${text}`).toBe(true);
      expect(finding.root_cause.includes(`\`${finding.location.function}\``) || finding.root_cause.includes(`\`${v.functionName}\``), v.id).toBe(true);
    }
    for (const t of templates) {
      const causes = new Set(pairs.filter(([v]) => v.templateId === t.id).map(([v]) => v.report.findings[0]!.root_cause));
      expect(causes.size, t.id).toBeGreaterThan(1);
    }
  });
});

/**
 * Positions (in vulnerable-code line numbers) where the fixed code differs: a removed or changed
 * line k counts as k, lines inserted between k and k+1 as k + 0.5. Longest common subsequence diff.
 */
function changedPositions(before: string[], after: string[]): number[] {
  const n = before.length;
  const m = after.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(i + 0.5);
      j++;
    } else {
      out.push(i + 1);
      i++;
    }
  }
  return out;
}

describe('generateSynth: the pair differs where the flaw is', () => {
  it('finds the diff helper honest', () => {
    expect(changedPositions(['a', 'b', 'c'], ['a', 'x', 'b', 'c'])).toEqual([1.5]);
    expect(changedPositions(['a', 'b', 'c'], ['a', 'c'])).toEqual([2]);
    expect(changedPositions(['a', 'b'], ['a', 'b'])).toEqual([]);
  });

  it('changes the flawed statements, or inserts the fix right next to them, in the fixed variant', () => {
    for (const [v, f] of pairs) {
      const loc = v.report.findings[0]!.location;
      const changes = changedPositions(v.code.split('\n'), f.code.split('\n'));
      const near = changes.filter((p) => p >= loc.start_line - 1 && p <= loc.end_line + 1);
      expect(near.length, `${v.id} (${v.templateId}/${v.form}): no change near lines ${loc.start_line}-${loc.end_line}, changes at ${changes.join(', ')}`).toBeGreaterThan(0);
    }
  });
});

describe('generateSynth: code hygiene', () => {
  const banned = /bad|good|vuln|fix|safe|cwe|flaw|bug|leak|overflow|taint|exploit|attack|secure/i;

  it('has no comments, no main() and no label-revealing words', () => {
    for (const s of corpus) {
      const code = withoutLiterals(s.code);
      expect(code, s.id).not.toMatch(/\/\/|\/\*/);
      expect(s.code, s.id).not.toMatch(/\bmain\s*\(/);
      expect(s.code, s.id).not.toMatch(banned);
    }
  });

  it('varies identifiers, sizes and layout between pairs of one template', () => {
    const stack = pairs.filter(([v]) => v.templateId === 'stack-copy').map(([v]) => v.code);
    expect(new Set(stack).size).toBe(stack.length);
    const indents = new Set(corpus.map((s) => (/\n(\t| {2}(?! )| {4})\S/.exec(s.code) ?? [])[1]));
    expect(indents).toEqual(new Set(['\t', '  ', '    ']));
    expect(corpus.some((s) => /if \([^\n]*\)\n\s*\{/.test(s.code))).toBe(true);
    expect(corpus.some((s) => /if \([^\n]*\) \{/.test(s.code))).toBe(true);
  });
});

describe('generateSynth: CWE selection', () => {
  it('keeps only the requested CWEs, whatever their spelling', () => {
    const some = generateSynth({ count: 40, seed: 1, cwes: ['121', 'cwe476'] });
    expect(new Set(some.map((s) => s.cwe))).toEqual(new Set(['CWE-121', 'CWE-476']));
  });

  it('rejects a CWE without a template, listing the supported ones', () => {
    expect(() => generateSynth({ count: 4, seed: 1, cwes: ['CWE-79'] })).toThrow(/unsupported CWE CWE-79 \(no template\); supported: CWE-22, CWE-78, CWE-121/);
    expect(() => generateSynth({ count: 4, seed: 1, cwes: ['nonsense'] })).toThrow(/unsupported CWE nonsense;/);
  });
});
