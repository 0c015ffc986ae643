import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { loadConfig } from '../../src/config/load.js';
import { getCwe } from '../../src/cwe/index.js';
import { distill, type DistillSummary } from '../../src/distill/distill.js';
import { promptHash, promptVersion } from '../../src/distill/prompts.js';
import { readExamples } from '../../src/distill/read-examples.js';
import { DISTILL_TASKS, type ExampleLine } from '../../src/distill/types.js';
import { getKnowledge } from '../../src/kb/knowledge.js';
import { getSample, type Sample } from '../../src/kb/samples.js';
import { groundReport } from '../../src/report/grounding.js';
import { reportSchema, type VulnerabilityReport } from '../../src/report/schema.js';
import { parseStudentReport, studentCweIds } from '../../src/runtime/generate-report.js';
import { buildReportMessages, codeLines } from '../../src/runtime/report-prompt.js';
import { reportToStudentText, studentReportJsonSchema } from '../../src/runtime/report-schema.js';
import { SilentLogger } from '../../src/util/log.js';
import { synthWorkspace, withDb, withDbAsync, type DistillFixture } from './fixtures.js';

let fx: DistillFixture;
let summary: DistillSummary;
let examples: ExampleLine[];
let rejectedKnowledge: number;
const knowledge = new Map<number, { status: string; report: VulnerabilityReport }>();
const samples = new Map<number, Sample>();

beforeAll(async () => {
  fx = await synthWorkspace({ count: 60, seed: 5 });
  summary = await withDbAsync(fx.kb, async (db) => {
    // One accepted record turned rejected: it must never be used.
    rejectedKnowledge = (db.prepare("SELECT k.id FROM knowledge k JOIN samples s ON s.id = k.sample_id WHERE s.split = 'train' AND s.label = 1 ORDER BY k.id LIMIT 1").get() as { id: number }).id;
    db.prepare("UPDATE knowledge SET status = 'rejected', reasons = '[{\"code\":\"test\",\"detail\":\"rejected by the test\"}]' WHERE id = ?").run(rejectedKnowledge);
    const s = await distill(
      { dataset: 'syn', split: 'train', out: join(fx.dir, 'all.jsonl'), tasks: [...DISTILL_TASKS], curriculum: false, seed: 1, evalDatasets: [], force: false },
      { db, config: loadConfig(join(fx.workspace, 'finesec.yaml')), logger: new SilentLogger() },
    );
    for (const row of db.prepare('SELECT id FROM knowledge').all() as Array<{ id: number }>) {
      const k = getKnowledge(db, row.id)!;
      knowledge.set(row.id, { status: k.status, report: JSON.parse(k.report!) as VulnerabilityReport });
      samples.set(k.sample_id, getSample(db, k.sample_id)!);
    }
    return s;
  });
  const read = await readExamples(join(fx.dir, 'all.jsonl'));
  expect(read.problems).toEqual([]);
  examples = read.examples as unknown as ExampleLine[];
}, 60_000);

afterAll(() => fx?.cleanup());

const answer = (e: ExampleLine): Record<string, unknown> => JSON.parse(e.messages[2]!.content) as Record<string, unknown>;
const of = (task: string) => examples.filter((e) => e.task === task);
const plainCode = (s: Sample) => codeLines(s.code).join('\n');

describe('distill tasks on reference-teacher knowledge of synthetic samples', () => {
  it('uses accepted knowledge only, one record per sample, and records provenance on every example', () => {
    expect(examples.length).toBe(summary.written);
    expect(examples.length).toBeGreaterThan(100);
    expect(examples.some((e) => e.knowledge_id === rejectedKnowledge)).toBe(false);
    for (const e of examples) {
      const k = knowledge.get(e.knowledge_id)!;
      expect(k.status).toBe('accepted');
      expect(e.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(e.prompt_version).toBe(promptVersion(e.task));
      expect(e.prompt_hash).toBe(promptHash(e.task));
      expect(e.label).toBe(k.report.verdict);
      expect(e.teacher).toBe('reference');
      expect(e.split).toBe('train');
      expect(e.run_id).toBe(summary.run);
    }
    // Every train sample with accepted knowledge gives exactly one detect example.
    const trainAccepted = [...knowledge.entries()].filter(([, k]) => k.status === 'accepted').map(([id]) => id);
    const detectIds = new Set(of('detect').map((e) => e.knowledge_id));
    expect(detectIds.size).toBe(of('detect').length);
    expect(detectIds.size).toBe(summary.selection.records);
    expect(trainAccepted.length).toBeGreaterThan(detectIds.size); // valid/test knowledge exists but is not used
  });

  it('detect: the verdict, on the code without line numbers', () => {
    for (const e of of('detect')) {
      const s = samples.get(e.sample_id)!;
      expect(answer(e)).toEqual({ verdict: knowledge.get(e.knowledge_id)!.report.verdict });
      expect(e.messages[1]!.content).toBe(`Language: ${s.language === 'cpp' ? 'C++' : 'C'}\n\n${plainCode(s)}`);
    }
    expect(of('detect').filter((e) => e.label === 'not_vulnerable').length).toBeGreaterThan(10);
  });

  it('classify: the CWE ids with their catalog names, for positives only', () => {
    expect(of('classify').length).toBe(summary.balance.after.positives);
    for (const e of of('classify')) {
      const r = knowledge.get(e.knowledge_id)!.report;
      expect(e.label).toBe('vulnerable');
      expect(answer(e)).toEqual({ findings: r.findings.map((f) => ({ cwe: f.cwe, name: getCwe(f.cwe)!.name })) });
      expect(e.cwe).toBe(r.findings[0]!.cwe);
    }
  });

  it('localize: function and line range, on numbered code whose lines are the sample\'s', () => {
    for (const e of of('localize')) {
      const r = knowledge.get(e.knowledge_id)!.report;
      const s = samples.get(e.sample_id)!;
      expect(answer(e)).toEqual({ findings: r.findings.map((f) => ({ cwe: f.cwe, location: f.location })) });
      const numbered = e.messages[1]!.content.split('\n').slice(2);
      const lines = codeLines(s.code);
      expect(numbered.length).toBe(lines.length);
      for (const f of r.findings) {
        const shown = numbered[f.location.start_line - 1]!;
        expect(shown).toMatch(new RegExp(`^\\s*${f.location.start_line} \\| `));
        expect(shown.replace(/^\s*\d+ \| /, '')).toBe(lines[f.location.start_line - 1]);
      }
    }
  });

  it('fragment: the minimal vulnerable code, verbatim from the code shown', () => {
    for (const e of of('fragment')) {
      const r = knowledge.get(e.knowledge_id)!.report;
      const got = answer(e) as { findings: Array<{ cwe: string; fragment: string }> };
      expect(got).toEqual({ findings: r.findings.map((f) => ({ cwe: f.cwe, fragment: f.fragment })) });
      for (const f of got.findings) expect(e.messages[1]!.content).toContain(f.fragment);
    }
  });

  it('explain: root cause, trigger, impact and remediation of the listed findings', () => {
    for (const e of of('explain')) {
      const r = knowledge.get(e.knowledge_id)!.report;
      const f0 = r.findings[0]!;
      const lines = f0.location.start_line === f0.location.end_line ? `line ${f0.location.start_line}` : `lines ${f0.location.start_line}-${f0.location.end_line}`;
      expect(e.messages[1]!.content).toContain(`Weaknesses:\n1. ${f0.cwe} in ${f0.location.function}, ${lines}`);
      expect(answer(e)).toEqual({
        findings: r.findings.map((f) => ({ cwe: f.cwe, root_cause: f.root_cause, trigger: f.trigger, impact: f.impact, remediation: f.remediation })),
      });
    }
  });

  it('reasoning: evidence steps, then reasoning, then the verdict (in that order)', () => {
    for (const e of of('reasoning')) {
      const r = knowledge.get(e.knowledge_id)!.report;
      const a = answer(e);
      expect(Object.keys(a)).toEqual(['evidence', 'reasoning', 'verdict']);
      expect(a).toEqual({ evidence: r.findings.flatMap((f) => f.evidence), reasoning: r.reasoning, verdict: r.verdict });
      if (r.verdict === 'not_vulnerable') expect(a.evidence).toEqual([]);
    }
  });

  it('report: the runtime\'s prompt, and exactly the text the student\'s grammar produces for the report', () => {
    const ajv = new Ajv({ strict: false });
    const reports = of('report');
    expect(reports.length).toBe(summary.selection.records - summary.studentFormDropped);
    expect(reports.length).toBeGreaterThan(20);
    for (const e of reports) {
      const s = samples.get(e.sample_id)!;
      const r = knowledge.get(e.knowledge_id)!.report;
      const input = { lineCount: codeLines(s.code).length, cweIds: studentCweIds() };
      expect(e.messages.slice(0, 2)).toEqual(buildReportMessages(s.code, { language: s.language }));
      const target = reportToStudentText(r, input);
      expect(target.ok).toBe(true);
      expect(e.messages[2]!.content).toBe(target.ok ? target.text : '');
      // The grammar's JSON schema admits it, and it maps back to the teacher's report.
      expect(ajv.validate(studentReportJsonSchema(input), JSON.parse(e.messages[2]!.content))).toBe(true);
      const back = parseStudentReport(e.messages[2]!.content);
      expect(back.ok).toBe(true);
      if (back.ok) {
        expect(reportSchema.parse(back.report)).toEqual({ ...r, findings: r.findings.map((f) => ({ ...f, confidence: Math.round(f.confidence * 10) / 10 })) });
        expect(groundReport(back.report, s.code).ok).toBe(true);
      }
    }
  });

  it('a report the student\'s schema cannot express gives no report example, with the reason recorded', () => {
    const reportIds = new Set(of('report').map((e) => e.knowledge_id));
    const missing = of('detect').filter((e) => !reportIds.has(e.knowledge_id));
    expect(missing.length).toBe(summary.studentFormDropped);
    withDb(fx.kb, (db) => {
      const reasons = db.prepare("SELECT source, reason FROM rejections WHERE stage = 'distill'").all() as Array<{ source: string; reason: string }>;
      expect(reasons.length).toBe(summary.studentFormDropped);
      for (const m of missing) {
        const r = reasons.find((x) => x.source === `knowledge:${m.knowledge_id}`);
        expect(r?.reason).toMatch(/^report: the student's report schema cannot express it: /);
        const s = samples.get(m.sample_id)!;
        expect(reportToStudentText(knowledge.get(m.knowledge_id)!.report, { lineCount: codeLines(s.code).length, cweIds: studentCweIds() }).ok).toBe(false);
      }
    });
  });
});
