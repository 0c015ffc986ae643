import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStudent } from '../../src/runtime/local-student.js';
import { generateReport, parseStudentReport, type ReportOutcome } from '../../src/runtime/generate-report.js';
import { OpenAiStudent } from '../../src/runtime/openai-student.js';
import { reportSchema } from '../../src/report/schema.js';
import { startServer } from '../../src/serve/server.js';
import { tinyModel } from '../helpers/tiny-model.js';

let student: LocalStudent;

beforeAll(async () => {
  // A random model: its text is garbage, which is the point (the grammar alone makes it valid).
  student = await LocalStudent.load({ model: await tinyModel(), contextSize: 4096, id: 'tiny' });
});

afterAll(async () => {
  await student?.close();
});

const code = [
  'int copy(const char *p)',
  '{',
  '    char b[4];',
  '    strcpy(b, p);',
  '    return b[0];',
  '}',
  '',
].join('\n');

describe('generateReport with a random tiny model', () => {
  it('gives a parseable, schema-valid report in every one of 60 seeded sampling runs', async () => {
    const outcomes: ReportOutcome[] = [];
    for (let seed = 1; seed <= 60; seed++) {
      outcomes.push(await generateReport(student, code, { temperature: 1, seed }));
    }
    for (const o of outcomes) {
      expect(['grounded', 'ungrounded'], `${o.status}: ${o.error}\n${o.raw}`).toContain(o.status);
      // The text itself parses and validates, independently of generateReport's own parsing.
      expect(reportSchema.safeParse(o.report).success).toBe(true);
      expect(parseStudentReport(o.raw).ok).toBe(true);
      expect(o.grounding).toBeDefined();
      for (const f of o.report!.findings) {
        expect(f.location.start_line).toBeLessThanOrEqual(6);
        expect(f.evidence.every((e) => e.line >= 1 && e.line <= 6)).toBe(true);
      }
    }
    // The runs cover the interesting shapes: findings, long strings, non-ASCII output.
    expect(outcomes.some((o) => o.report!.findings.length > 0)).toBe(true);
    expect(outcomes.some((o) => /[^\x00-\x7f]/.test(o.raw))).toBe(true);
    // Different seeds sample different reports.
    expect(new Set(outcomes.map((o) => o.raw)).size).toBeGreaterThan(50);
  });

  it('is deterministic when greedy', async () => {
    const a = await generateReport(student, code, { maxTokens: 300 });
    const b = await generateReport(student, code, { maxTokens: 300 });
    expect(b.raw).toBe(a.raw);
    expect(b.status).toBe(a.status);
  });

  it('reports max tokens reached mid-JSON as a truncated outcome', async () => {
    const o = await generateReport(student, code, { maxTokens: 8, temperature: 1, seed: 4 });
    expect(o.status).toBe('truncated');
    expect(o.error).toBe('the answer reached max tokens (8) before the JSON was complete');
    expect(o.report).toBeUndefined();
    expect(o.usage.completionTokens).toBe(8);
  });

  it('rejects code too long for the context, or keeps the prefix that fits when asked', async () => {
    const small = await LocalStudent.load({ model: await tinyModel(), contextSize: 512, llama: student.llama });
    try {
      const long = Array.from({ length: 120 }, (_, i) => `    total += buffer[${i}] * weight_${i};`).join('\n');
      const refused = await generateReport(small, long);
      expect(refused.status).toBe('prompt_too_long');
      expect(refused.error).toMatch(/^prompt is \d+ tokens but the context holds 512/);

      const cut = await generateReport(small, long, { overflow: 'truncate', maxTokens: 200, temperature: 1, seed: 2 });
      expect(cut.status).not.toBe('prompt_too_long');
      expect(cut.linesTotal).toBe(120);
      expect(cut.linesShown).toBeGreaterThan(0);
      expect(cut.linesShown).toBeLessThan(120);
      expect(small.countPromptTokens([{ role: 'user', content: 'x' }])).toBeLessThan(512);
    } finally {
      await small.close();
    }
  });

  it('drives a student behind an OpenAI-compatible endpoint with the same result', async () => {
    const server = await startServer({ backend: student });
    try {
      const remote = new OpenAiStudent({ baseURL: server.url, model: 'tiny', maxRetries: 0 });
      for (const seed of [7, 8]) {
        const direct = await generateReport(student, code, { temperature: 1, seed });
        const viaHttp = await generateReport(remote, code, { temperature: 1, seed });
        expect(viaHttp.raw).toBe(direct.raw);
        expect(viaHttp.status).toBe(direct.status);
        expect(viaHttp.usage).toEqual(direct.usage);
      }
    } finally {
      await server.close();
    }
  });
});
