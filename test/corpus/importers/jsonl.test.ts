import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { parseFieldMap } from '../../../src/corpus/importers/jsonl.js';
import { guessLanguage, readCwes, readLabel } from '../../../src/corpus/importers/fields.js';
import { openTestKb, type TestKb } from './kb.js';

let dir: string;
let cleanup: () => void;
let kb: TestKb;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  kb = openTestKb(dir);
});
afterEach(() => {
  kb.close();
  cleanup();
});

const write = (name: string, rows: unknown[]): string => {
  const file = join(dir, name);
  writeFileSync(file, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return file;
};

describe('jsonl importer', () => {
  it('maps arbitrary (also nested) fields onto samples and accepts the usual label spellings', async () => {
    const file = write('custom.jsonl', [
      { uid: 'a', body: 'int a(void) { return 1; }', vuln: true, info: { cwe: 'CWE-20', repo: 'r1' }, fam: 'f1', lines: '1' },
      { uid: 'b', body: 'int b(void) { return 2; }', vuln: 'safe', info: { cwe: ['CWE-787', 'CWE-125'], repo: 'r1' }, fam: 'f1' },
      { uid: 'c', body: 'int c(void) { return 3; }', vuln: 'Vulnerable', info: { repo: 'r2' }, fam: 'f2', lang: 'c++' },
      { uid: 'd', body: 'int d(void) { return 4; }', vuln: 0, info: {}, fam: 'f2' },
    ]);
    const s = await kb.ingest('jsonl', file, {
      map: parseFieldMap(['code=body', 'label=vuln', 'cwe=info.cwe', 'project=info.repo', 'group=fam', 'id=uid', 'flaw_lines=lines', 'language=lang']),
    });
    expect(s).toMatchObject({ read: 4, inserted: 4, rejected: 0 });
    const rows = kb.samples();
    expect(rows.map((r) => r.label)).toEqual([1, 0, 1, 0]);
    expect(rows.map((r) => r.cwes)).toEqual([['CWE-20'], ['CWE-125', 'CWE-787'], [], []]);
    expect(rows.map((r) => r.project)).toEqual(['r1', 'r1', 'r2', null]);
    expect(rows.map((r) => r.group_id)).toEqual(['f1', 'f1', 'f2', 'f2']);
    expect(rows.map((r) => r.language)).toEqual(['c', 'c', 'cpp', 'c']);
    expect(rows[0]!.flaw_lines).toEqual([1]);
    expect(rows[0]!.meta).toEqual({ info: { cwe: 'CWE-20', repo: 'r1' } });
    expect(kb.sources().map((r) => r.source_key)).toEqual(['custom.jsonl#id:a', 'custom.jsonl#id:b', 'custom.jsonl#id:c', 'custom.jsonl#id:d']);
  });

  it('imports without labels when none is mapped, and rejects bad rows with clear reasons', async () => {
    const file = write('rows.jsonl', [
      { code: 'int a(void) { return 1; }' },
      { text: 'no code here' },
      { code: '   ' },
      { code: 'int b(void) { return 2; }', label: 'perhaps' },
      'not json at all',
    ]);
    const unlabelled = await kb.ingest('jsonl', file, { map: { code: 'code' } });
    expect(unlabelled).toMatchObject({ read: 5, inserted: 2, rejected: 3 });
    expect(kb.samples().map((r) => r.label)).toEqual([null, null]);
    expect(kb.rejections().map((r) => [r.line, r.reason])).toEqual([
      [2, 'missing required field "code" (mapped to code)'],
      [3, 'field "code" (mapped to code) is empty'],
      [5, expect.stringMatching(/^malformed JSON: /)],
    ]);
    const labelled = await kb.ingest('jsonl', file, { dataset: 'l', map: { code: 'code', label: 'label' } });
    expect(labelled).toMatchObject({ inserted: 0, rejected: 5 });
    expect(kb.rejections().filter((r) => r.reason.includes('label')).map((r) => [r.line, r.reason])).toEqual([
      [1, 'missing field "label" (mapped to label)'],
      [4, 'field "label" (mapped to label): expected a label (0/1, true/false, "vulnerable"/"safe"), got "perhaps"'],
    ]);
  });

  it('rejects unknown and malformed --map entries as usage errors', () => {
    expect(() => parseFieldMap(['code=func', 'severity=sev'])).toThrow(/--map key "severity" is not one of code, label, cwe/);
    expect(() => parseFieldMap(['code'])).toThrow(/--map entry "code": expected KEY=FIELD/);
  });
});

describe('field readers', () => {
  it('reads labels, CWE lists and languages the way datasets write them', () => {
    expect(readLabel('1', '"t"')).toEqual({ ok: true, value: 1 });
    expect(readLabel('benign', '"t"')).toEqual({ ok: true, value: 0 });
    expect(readLabel(2, '"t"')).toMatchObject({ ok: false });
    expect(readCwes('CWE-119, 20; NVD-CWE-noinfo', '"c"')).toEqual({ ok: true, value: ['CWE-119', 'CWE-20'] });
    expect(readCwes('buffer overflow', '"c"')).toMatchObject({ ok: false, reason: expect.stringMatching(/"buffer" is not a CWE id/) });
    expect(guessLanguage('struct node *new = malloc(sizeof *new);\nint delete = 0;')).toBe('c');
    expect(guessLanguage('std::string s; auto *p = new Widget(3);')).toBe('cpp');
  });
});
