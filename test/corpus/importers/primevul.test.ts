import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../../helpers/cli.js';
import { openTestKb, type TestKb } from './kb.js';

const jsonl = (rows: unknown[]): string => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

const vulnerable = 'static int parse(char *buf, int n)\n{\n  char tmp[8];\n  memcpy(tmp, buf, n);\n  return tmp[0];\n}';
const fixed = 'static int parse(char *buf, int n)\n{\n  char tmp[8];\n  if (n > 8) return -1;\n  memcpy(tmp, buf, n);\n  return tmp[0];\n}';

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

describe('primevul importer', () => {
  it('imports PrimeVul rows, pairs a vulnerable and a fixed version of one function, and detects the language', async () => {
    const file = join(dir, 'primevul_paired.jsonl');
    writeFileSync(
      file,
      jsonl([
        { idx: 10, project: 'libfoo', commit_id: 'abc', target: 1, func: vulnerable, cwe: ['CWE-787'], cve: 'CVE-2020-1', file_name: 'src/parse.c' },
        { idx: 11, project: 'libfoo', commit_id: 'abc', target: 0, func: fixed, cwe: ['CWE-787'], cve: 'CVE-2020-1', file_name: 'src/parse.c' },
        { idx: 12, project: 'libfoo', commit_id: 'def', target: 0, func: 'int lonely(void) { return 0; }', cwe: [], file_name: 'src/other.cc' },
        { idx: 13, project: 'libbar', commit_id: 'fff', target: '1', func: 'void Foo::run() { delete[] p; }', cwe: 'CWE-415' },
      ]),
    );
    const s = await kb.ingest('primevul', file);
    expect(s).toMatchObject({ read: 4, samples: 4, inserted: 4, merged: 0, rejected: 0, complete: true });
    const [v, f, lonely, cpp] = kb.samples();
    expect(v!.label).toBe(1);
    expect(f!.label).toBe(0);
    expect(v!.pair_id).not.toBeNull();
    expect(f!.pair_id).toBe(v!.pair_id);
    expect(lonely!.pair_id).toBeNull(); // no twin: the derived pair id is dropped
    expect(v!.cwes).toEqual(['CWE-787']);
    expect(v!.function_name).toBe('parse');
    expect(v!.file).toBe('src/parse.c');
    expect(v!.project).toBe('libfoo');
    expect(v!.commit_id).toBe('abc');
    expect(v!.language).toBe('c');
    expect(lonely!.language).toBe('cpp'); // from the .cc file name
    expect(cpp!.language).toBe('cpp'); // no file name: from the code
    expect(cpp!.cwes).toEqual(['CWE-415']);
    expect(v!.meta).toMatchObject({ idx: 10, cve: 'CVE-2020-1' });
    expect(kb.sources().map((r) => r.source_key)).toEqual(['primevul_paired.jsonl#idx:10', 'primevul_paired.jsonl#idx:11', 'primevul_paired.jsonl#idx:12', 'primevul_paired.jsonl#idx:13']);
  });

  it('reads gzipped DiverseVul and Devign rows (no idx: the line is the key) and keeps the group field', async () => {
    const file = join(dir, 'diversevul.jsonl.gz');
    writeFileSync(
      file,
      gzipSync(
        jsonl([
          { func: 'int a(void) { return 1; }', target: 1, cwe: ['CWE-476'], project: 'p1', commit_id: 'c1', hash: 1, size: 1, message: 'fix' },
          { func: 'int b(void) { return 2; }', target: 0, project: 'p2', commit_id: 'c2' },
        ]),
      ),
    );
    const s = await kb.ingest('primevul', file, { groupField: 'project' });
    expect(s).toMatchObject({ read: 2, inserted: 2 });
    const rows = kb.samples();
    expect(rows.map((r) => r.group_id)).toEqual(['p1', 'p2']);
    expect(rows[0]!.meta).toMatchObject({ hash: 1, size: 1, message: 'fix' });
    expect(kb.sources().map((r) => r.source_key)).toEqual(['diversevul.jsonl.gz#line:1', 'diversevul.jsonl.gz#line:2']);
  });

  it('imports Juliet-shaped rows: test case as pair id, flaw lines and CWE list kept, label names out of the code and columns', async () => {
    const file = join(dir, 'juliet.jsonl');
    const common = { testcase: 'CWE476_NULL_Pointer_Dereference__char_01', cwe: ['CWE-476'], functional_variant: 'char', flow_variant: '01', language: 'cpp', file_name: 'testcases/CWE476_NULL_Pointer_Dereference/CWE476_NULL_Pointer_Dereference__char_01.cpp' };
    writeFileSync(
      file,
      jsonl([
        { ...common, idx: 'CWE476_NULL_Pointer_Dereference__char_01:bad', target: 1, func: 'void fn1()\n{\n    char *p = NULL;\n    *p = 1;\n}', flaw_lines: [4] },
        { ...common, idx: 'CWE476_NULL_Pointer_Dereference__char_01:good', target: 0, func: 'void fn1()\n{\n    char c;\n    char *p = &c;\n    *p = 1;\n}', flaw_lines: [] },
      ]),
    );
    const s = await kb.ingest('primevul', file, { groupField: 'functional_variant' });
    expect(s).toMatchObject({ read: 2, inserted: 2 });
    const [bad, good] = kb.samples();
    expect(bad!.pair_id).toBe('CWE476_NULL_Pointer_Dereference__char_01');
    expect(good!.pair_id).toBe(bad!.pair_id);
    expect(bad!.group_id).toBe('char');
    expect(bad!.flaw_lines).toEqual([4]);
    expect(bad!.language).toBe('cpp');
    expect(bad!.file).toBeNull();
    expect(bad!.function_name).toBeNull();
    for (const sample of [bad!, good!]) {
      expect(sample.code).not.toMatch(/CWE|bad|good|testcases/);
      expect(sample.meta).toMatchObject({ file_name: common.file_name, idx: expect.any(String) });
    }
  });

  it('reports a malformed line, a missing field and a wrong type with file and line, and imports the rest', async () => {
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(
      file,
      jsonl([
        { idx: 1, target: 1, func: 'int ok1(void) { return 1; }' },
        '{"idx": 2, "target": 0, "func": "int broken(void) {',
        { idx: 3, target: 0 },
        '',
        { idx: 4, func: 'int nolabel(void) { return 4; }' },
        { idx: 5, target: 'maybe', func: 'int x(void) { return 5; }' },
        { idx: 6, target: 1, func: 42 },
        '[1, 2]',
        { idx: 8, target: 0, func: 'int ok2(void) { return 8; }' },
      ]),
    );
    const s = await kb.ingest('primevul', file);
    expect(s).toMatchObject({ read: 8, inserted: 2, rejected: 6 });
    expect(s.inserted + s.merged + s.rejected).toBe(s.read);
    const rejections = kb.rejections();
    expect(rejections.map((r) => [r.source, r.line])).toEqual([
      ['mixed.jsonl', 2],
      ['mixed.jsonl', 3],
      ['mixed.jsonl', 5],
      ['mixed.jsonl', 6],
      ['mixed.jsonl', 7],
      ['mixed.jsonl', 8],
    ]);
    expect(rejections[0]!.reason).toMatch(/^malformed JSON/);
    expect(rejections[1]!.reason).toBe('missing required field "func"');
    expect(rejections[2]!.reason).toBe('missing required field "target"');
    expect(rejections[3]!.reason).toMatch(/field "target": expected a label .*got "maybe"/);
    expect(rejections[4]!.reason).toBe('field "func": expected a string of code, got number 42');
    expect(rejections[5]!.reason).toBe('expected a JSON object per line');
    expect(kb.logger.lines.filter((l) => l.startsWith('warning:'))[0]).toBe(`warning: ${file}:2: ${rejections[0]!.reason}`);
  });

  it('rejects a row without the requested group field', async () => {
    const file = join(dir, 'g.jsonl');
    writeFileSync(file, jsonl([{ target: 1, func: 'int a(void) { return 1; }', functional_variant: 'x' }, { target: 0, func: 'int b(void) { return 1; }' }]));
    const s = await kb.ingest('primevul', file, { groupField: 'functional_variant' });
    expect(s).toMatchObject({ inserted: 1, rejected: 1 });
    expect(kb.rejections()[0]).toMatchObject({ line: 2, reason: 'missing group field "functional_variant"' });
  });

  it('merges exact duplicates, flags conflicting labels, and adds nothing when the same data is imported again', async () => {
    const file = join(dir, 'dups.jsonl');
    writeFileSync(
      file,
      jsonl([
        { idx: 1, target: 0, func: 'int f(void) { return 1; } // one' },
        { idx: 2, target: 0, func: 'int f(void) { /* same */ return 1; }' },
        { idx: 3, target: 1, func: 'int f(void)  {  return 1; }' },
        { idx: 4, target: 1, func: 'int g(void) { return 2; }' },
      ]),
    );
    const first = await kb.ingest('primevul', file);
    expect(first).toMatchObject({ read: 4, inserted: 2, merged: 2, conflicts: 1 });
    const f = kb.samples()[0]!;
    expect(f.label).toBeNull();
    expect(f.label_conflict).toBe(1);
    expect(f.occurrences).toBe(3);
    expect(kb.sources()).toHaveLength(4);

    const again = await kb.ingest('primevul', file);
    expect(again).toMatchObject({ read: 0, inserted: 0, merged: 0, unchangedInputs: 1, unchangedUnits: 4 });
    appendFileSync(file, jsonl([{ idx: 5, target: 0, func: 'int h(void) { return 3; }' }]));
    const changed = await kb.ingest('primevul', file);
    expect(changed).toMatchObject({ read: 5, inserted: 1, alreadyImported: 4 });
    expect(kb.samples()).toHaveLength(3);
    expect(kb.sources()).toHaveLength(5);
  });

  it('stops at --limit and continues from there on the next run', async () => {
    const file = join(dir, 'many.jsonl');
    writeFileSync(file, jsonl(Array.from({ length: 10 }, (_, i) => ({ idx: i, target: i % 2, func: `int f${i}(void) { return ${i}; }` }))));
    const part = await kb.ingest('primevul', file, { limit: 4 });
    expect(part).toMatchObject({ read: 4, inserted: 4, complete: false });
    const rest = await kb.ingest('primevul', file);
    expect(rest).toMatchObject({ read: 6, inserted: 6, resumedInputs: 1, complete: true });
    expect(kb.sources()).toHaveLength(10);
  });
});
