import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readExamples } from '../../src/distill/read-examples.js';
import { buildReportMessages } from '../../src/runtime/report-prompt.js';
import { bundledDocuments, julietDocuments, writeCorpus } from '../../src/nano/corpus.js';
import { lossTable } from '../../src/nano/card.js';

function temp(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'finesec-nano-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('nano pretraining corpus', () => {
  it('renders synthetic samples as code, prose and the exact student conversation, plus the CWE catalog', () => {
    const docs = [...bundledDocuments({ synthCount: 4, synthSeed: 5 })];
    const kinds = new Map<string, number>();
    for (const d of docs) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
    expect(kinds.get('synth-code')).toBe(4);
    expect(kinds.get('synth-prose')).toBe(4);
    expect(kinds.get('synth-report')).toBe(4);
    expect(kinds.get('cwe')).toBeGreaterThan(50);
    const prose = docs.filter((d) => d.kind === 'synth-prose').map((d) => d.messages[1]!.content);
    expect(prose.some((p) => /Verdict: vulnerable\.[\s\S]*Root cause: [\s\S]*Trigger: [\s\S]*Impact: [\s\S]*Remediation: /.test(p))).toBe(true);
    expect(prose.some((p) => p.includes('Verdict: not vulnerable.'))).toBe(true);
    const code = docs.find((d) => d.kind === 'synth-code')!;
    const report = docs.find((d) => d.kind === 'synth-report')!;
    // The report document is the runtime prompt for that same code, answered with the student's JSON.
    const userCode = report.messages[1]!.content;
    expect(report.messages.slice(0, 2)).toEqual(buildReportMessages(code.messages[1]!.content, { language: userCode.includes('Language: C++') ? 'cpp' : 'c' }));
    expect(JSON.parse(report.messages[2]!.content).verdict).toMatch(/^(vulnerable|not_vulnerable)$/);
  });

  it('takes every k-th Juliet function (code only) and stops at the limit', async () => {
    const t = temp();
    try {
      const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ idx: `CWE121_x_${i}:bad`, target: i % 2, language: i % 3 ? 'c' : 'cpp', func: `void fn${i}(void) { }` }));
      const path = join(t.dir, 'j.jsonl.gz');
      writeFileSync(path, gzipSync(`${rows.join('\n')}\nnot json\n`));
      const docs = [];
      for await (const d of julietDocuments(path, 3, 40)) docs.push(d);
      expect(docs).toHaveLength(3);
      for (const d of docs) {
        expect(d.kind).toBe('juliet');
        expect(d.messages[1]!.content).toMatch(/^void fn\d+\(void\) \{ \}$/);
        expect(JSON.stringify(d)).not.toMatch(/CWE121|bad/);
      }
    } finally {
      t.cleanup();
    }
  });

  it('writes chat JSONL the trainer reads without a malformed line, with matching counts', async () => {
    const t = temp();
    try {
      const out = join(t.dir, 'corpus.jsonl');
      const stats = await writeCorpus(out, { synthCount: 6, synthSeed: 9, julietPath: join(t.dir, 'missing.jsonl.gz'), julietLimit: 10 });
      expect(stats.juliet).toBe('absent');
      expect(stats.byKind.juliet.documents).toBe(0);
      const read = await readExamples(out);
      expect(read.problems).toEqual([]);
      expect(read.examples).toHaveLength(stats.documents);
      const chars = read.examples.reduce((n, e) => n + e.messages.reduce((m, x) => m + x.content.length, 0), 0);
      expect(chars).toBe(stats.characters);
    } finally {
      t.cleanup();
    }
  });

  it('summarises the loss curve in windows that end on the last step', () => {
    const metrics = Array.from({ length: 10 }, (_, i) => ({ step: i + 1, loss: 10 - i, lr: 1e-3, tokens: (i + 1) * 100, elapsed_s: i }));
    const table = lossTable(metrics, 4);
    // Step 1 alone, then windows of ceil(9 / 4) = 3 steps: 2-4, 5-7, 8-10.
    expect(table.slice(2)).toEqual([
      '| 1 | 100 | 10.000 | 1.00e-3 | 0 s |',
      '| 4 | 400 | 8.000 | 1.00e-3 | 3 s |',
      '| 7 | 700 | 5.000 | 1.00e-3 | 6 s |',
      '| 10 | 1000 | 2.000 | 1.00e-3 | 9 s |',
    ]);
  });
});
