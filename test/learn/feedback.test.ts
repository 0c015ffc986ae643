import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { fixtureSample, sampleInput } from '../teacher/fixtures.js';
import { initWorkspace, openWorkspace, type Workspace } from '../../src/config/workspace.js';
import { ensureDataset } from '../../src/kb/datasets.js';
import { listFeedback } from '../../src/kb/feedback.js';
import { insertSamples } from '../../src/kb/samples.js';
import { addFeedback, FEEDBACK_DATASET, importSarif } from '../../src/learn/feedback.js';
import { readFindingsFile } from '../../src/learn/findings-file.js';

/** A function unlike the fixtures: arithmetic over an array. */
const otherFunction = [
  'int sum_weights(const int *w, int n)',
  '{',
  '    int total = 0;',
  '    for (int i = 0; i < n; i++) {',
  '        if (w[i] > 100)',
  '            continue;',
  '        total += w[i] * 3;',
  '    }',
  '    return total / (n + 1);',
  '}',
].join('\n');

let dir: string;
let cleanup: () => void;
let wsDir: string;
let testSampleId: number;
let trainSampleId: number;
let trainSafeId: number;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('finesec-feedback-'));
  wsDir = join(dir, 'ws');
  initWorkspace(wsDir);
  const w = openWorkspace(wsDir, { create: false });
  try {
    const ds = ensureDataset(w.db, 'fx', 'jsonl', null);
    insertSamples(w.db, ds.id, [
      sampleInput(fixtureSample('copy_name', true, 16)),
      sampleInput(fixtureSample('copy_path', true, 64)),
      sampleInput(fixtureSample('copy_safe', false, 32)),
    ]);
    const ids = (w.db.prepare('SELECT id, function_name FROM samples ORDER BY id').all() as Array<{ id: number; function_name: string }>).map((r) => r.id);
    w.db.prepare("UPDATE samples SET split = 'test' WHERE id = ?").run(ids[0]);
    w.db.prepare("UPDATE samples SET split = 'train' WHERE id IN (?, ?)").run(ids[1], ids[2]);
    [testSampleId, trainSampleId, trainSafeId] = ids as [number, number, number];
  } finally {
    w.close();
  }
  mkdirSync(join(dir, 'src'), { recursive: true });
  // A renamed copy of the test sample (a near duplicate) and an unrelated function.
  writeFileSync(join(dir, 'src', 'copy.c'), fixtureSample('copy_name', true, 16).code.replace(/copy_name/g, 'duplicate_me').replace(/\bsrc\b/g, 'input').replace(/\bbuf\b/g, 'local') + '\n');
  writeFileSync(join(dir, 'src', 'exact.c'), '/* copied */\n' + fixtureSample('copy_name', true, 16).code.replace('{', '{   // entry') + '\n');
  writeFileSync(join(dir, 'src', 'other.c'), `#include <stdio.h>\n\n${otherFunction}\n`);
});
afterAll(() => cleanup());

function withWs<T>(fn: (w: Workspace) => Promise<T> | T): Promise<T> {
  const w = openWorkspace(wsDir, { create: false });
  return Promise.resolve(fn(w)).finally(() => w.close());
}

describe('feedback add', () => {
  it('accepts a training sample, and adding the same item again changes nothing', async () => {
    await withWs(async (w) => {
      const first = await addFeedback(w, { target: { sampleId: trainSampleId }, kind: 'false_negative', note: 'missed', cwe: 'CWE-121' });
      expect(first.created).toBe(true);
      expect(first.row).toMatchObject({ status: 'accepted', reason: null, sample_id: trainSampleId, kind: 'false_negative', expected_cwe: 'CWE-121', source: 'user' });
      const again = await addFeedback(w, { target: { sampleId: trainSampleId }, kind: 'false_negative', note: 'missed', cwe: 'CWE-121' });
      expect(again).toMatchObject({ created: false, row: { id: first.row.id } });
    });
  });

  it('refuses a test-split sample with the reason and never marks it accepted', async () => {
    await withWs(async (w) => {
      const { row } = await addFeedback(w, { target: { sampleId: testSampleId }, kind: 'false_negative' });
      expect(row.status).toBe('refused');
      expect(row.reason).toBe(`sample ${testSampleId} is in the test split of dataset fx: nothing from an evaluation split is learned`);
    });
  });

  it('refuses a renamed copy of a test sample read from a file as a near duplicate', async () => {
    await withWs(async (w) => {
      const { row } = await addFeedback(w, { target: { file: join(dir, 'src', 'copy.c'), functionName: 'duplicate_me' }, kind: 'false_negative' });
      expect(row.status).toBe('refused');
      expect(row.reason).toMatch(new RegExp(`^near duplicate \\(estimated Jaccard (0\\.[89]\\d|1\\.00)\\) of evaluation sample ${testSampleId} \\(test split of dataset fx\\)`));
      expect(row.sample_id).toBeNull();
      // The same code with other comments and layout is an exact duplicate (normalised hash).
      const exact = await addFeedback(w, { target: { file: join(dir, 'src', 'exact.c'), functionName: 'copy_name' }, kind: 'ungrounded' });
      expect(exact.row.reason).toBe(`exact duplicate of evaluation sample ${testSampleId} (test split of dataset fx): nothing from an evaluation split is learned`);
    });
  });

  it('stores an accepted function from a file as a sample of the feedback dataset, labelled by the kind', async () => {
    await withWs(async (w) => {
      const { row } = await addFeedback(w, { target: { file: join(dir, 'src', 'other.c'), line: 7 }, kind: 'false_positive', reportedCwe: 'CWE-369' });
      expect(row).toMatchObject({ status: 'accepted', function_name: 'sum_weights', start_line: 3, reported_cwe: 'CWE-369' });
      const sample = w.db.prepare('SELECT s.*, d.name AS dataset FROM samples s JOIN datasets d ON d.id = s.dataset_id WHERE s.id = ?').get(row.sample_id) as {
        dataset: string;
        label: number;
        code: string;
        split: string | null;
      };
      expect(sample).toMatchObject({ dataset: FEEDBACK_DATASET, label: 0, code: otherFunction, split: null });
    });
  });

  it('rejects bad requests with a clear error', async () => {
    await withWs(async (w) => {
      await expect(addFeedback(w, { target: { sampleId: 999999 }, kind: 'false_positive' })).rejects.toThrow(/no sample 999999/);
      await expect(addFeedback(w, { target: { sampleId: trainSampleId }, kind: 'false_positive' })).rejects.toThrow(/labelled vulnerable in its dataset, which contradicts false_positive/);
      await expect(addFeedback(w, { target: { sampleId: trainSafeId }, kind: 'wrong_cwe' })).rejects.toThrow(/wrong_cwe needs --cwe/);
      await expect(addFeedback(w, { target: { file: join(dir, 'src', 'other.c'), functionName: 'nope' }, kind: 'false_positive' })).rejects.toThrow(
        /other\.c: no function named nope \(functions: sum_weights\)/,
      );
      await expect(addFeedback(w, { target: { file: join(dir, 'missing.c'), line: 1 }, kind: 'false_positive' })).rejects.toThrow(/missing\.c: cannot read/);
    });
  });

  it('works from the command line, also for a scan finding looked up by fingerprint', async () => {
    const sarif = join(dir, 'finding.sarif');
    writeFileSync(sarif, JSON.stringify(sarifLog([result({ file: 'other.c', line: 9, fingerprint: 'abc123', ruleId: 'CWE-369' })])));
    const r = await runCli(['feedback', 'add', '--workspace', wsDir, '--json', '--finding', 'finesec/v1=abc123:1', '--report', sarif, '--kind', 'false_positive', '--note', 'n checked']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.feedback).toMatchObject({ status: 'accepted', finding: 'finesec/v1=abc123:1', reported_cwe: 'CWE-369', function_name: 'sum_weights', note: 'n checked' });
    const bad = await runCli(['feedback', 'add', '--workspace', wsDir, '--sample', '1', '--file', 'x.c', '--kind', 'false_positive']);
    expect(bad.code).toBe(2);
    const list = await runCli(['feedback', 'list', '--workspace', wsDir, '--json', '--status', 'refused']);
    expect(JSON.parse(list.stdout).items.every((i: { status: string }) => i.status === 'refused')).toBe(true);
  });
});

interface ResultSpec {
  file: string;
  line: number;
  fingerprint: string;
  ruleId?: string;
  suppressions?: unknown[];
  properties?: Record<string, unknown>;
  baselineState?: string;
}

function result(r: ResultSpec): Record<string, unknown> {
  return {
    ruleId: r.ruleId ?? 'CWE-121',
    message: { text: 'finding' },
    locations: [{ physicalLocation: { artifactLocation: { uri: r.file, uriBaseId: '%SRCROOT%' }, region: { startLine: r.line } } }],
    partialFingerprints: { 'finesec/v1': `${r.fingerprint}:1` },
    ...(r.suppressions ? { suppressions: r.suppressions } : {}),
    ...(r.baselineState ? { baselineState: r.baselineState } : {}),
    ...(r.properties ? { properties: r.properties } : {}),
  };
}

function sarifLog(results: unknown[], root = join(dir, 'src')): Record<string, unknown> {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'finesec', rules: [] } }, originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(root).href + '/' } }, results }],
  };
}

describe('feedback import-sarif', () => {
  it('takes dismissed results as false positives (accepted or statusless suppressions, GitHub dismissals as false positive) and skips the rest', async () => {
    mkdirSync(join(dir, 'tree'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'a.c'), `${otherFunction}\n\n${otherFunction.replace('sum_weights', 'sum_other').replace('* 3', '* 5')}\n`);
    writeFileSync(join(dir, 'tree', 'dup.c'), fixtureSample('copy_name', true, 16).code.replace(/copy_name/g, 'twin') + '\n');
    const log = sarifLog(
      [
        result({ file: 'a.c', line: 7, fingerprint: 'f1', suppressions: [{ kind: 'inSource', status: 'accepted', justification: 'n is never negative' }] }),
        result({ file: 'a.c', line: 18, fingerprint: 'f2', suppressions: [{ kind: 'external' }] }),
        result({ file: 'a.c', line: 7, fingerprint: 'f3', suppressions: [{ kind: 'external', status: 'underReview' }] }),
        result({ file: 'a.c', line: 7, fingerprint: 'f4', ruleId: 'CWE-190', properties: { state: 'dismissed', dismissed_reason: 'false positive', dismissed_comment: 'bounded above' } }),
        result({ file: 'a.c', line: 7, fingerprint: 'f5', properties: { state: 'dismissed', dismissed_reason: "won't fix" } }),
        result({ file: 'a.c', line: 7, fingerprint: 'f6' }),
        result({ file: 'a.c', line: 7, fingerprint: 'f7', baselineState: 'absent', suppressions: [{ kind: 'external', status: 'accepted' }] }),
        result({ file: 'gone.c', line: 3, fingerprint: 'f8', suppressions: [{ kind: 'external', status: 'accepted' }] }),
        result({ file: 'dup.c', line: 3, fingerprint: 'f9', suppressions: [{ kind: 'inSource', status: 'accepted' }] }),
      ],
      join(dir, 'tree'),
    );
    const path = join(dir, 'triaged.sarif');
    writeFileSync(path, JSON.stringify(log));
    expect(readFindingsFile(path).findings.map((f) => f.dismissed)).toEqual([true, true, false, true, false, false, false, true, true]);

    await withWs(async (w) => {
      const s = await importSarif(w, path);
      expect(s).toMatchObject({ results: 9, dismissed: 5, accepted: 3, refused: 1, known: 0, unlocated: 1 });
      expect(s.skipped).toEqual({
        'suppression underReview: not accepted': 1,
        'dismissed as "won\'t fix", not as a false positive': 1,
        'not suppressed or dismissed': 1,
        'baselineState "absent": the code is gone': 1,
      });
      const rows = listFeedback(w.db, { source: 'sarif' });
      expect(rows.map((r) => [r.function_name, r.status, r.kind, r.note])).toEqual([
        ['sum_weights', 'accepted', 'false_positive', 'n is never negative'],
        ['sum_other', 'accepted', 'false_positive', null],
        ['sum_weights', 'accepted', 'false_positive', 'bounded above'],
        ['twin', 'refused', 'false_positive', null],
      ]);
      expect(rows[2]!.reported_cwe).toBe('CWE-190');
      expect(rows[3]!.reason).toMatch(/near duplicate .* of evaluation sample/);
      const missing = w.db.prepare("SELECT reason FROM rejections WHERE stage = 'feedback'").all() as Array<{ reason: string }>;
      expect(missing.map((m) => m.reason)).toEqual([expect.stringMatching(/gone\.c: cannot read/)]);
      const again = await importSarif(w, path);
      expect(again).toMatchObject({ accepted: 0, refused: 0, known: 4 });
      expect(listFeedback(w.db, { source: 'sarif' })).toHaveLength(4);
    });
  });

  it('refuses what is not a SARIF log, naming the file', async () => {
    const path = join(dir, 'bad.sarif');
    writeFileSync(path, '{"runs": 3}');
    await withWs(async (w) => {
      await expect(importSarif(w, path)).rejects.toThrow(/bad\.sarif: expected a SARIF 2\.1\.0 log/);
      writeFileSync(path, 'not json');
      await expect(importSarif(w, path)).rejects.toThrow(/bad\.sarif: not a readable JSON file/);
    });
  });
});
