import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { flawLinesFrom } from '../../../src/corpus/importers/bigvul.js';
import { openTestKb, type TestKb } from './kb.js';

/** One CSV field, quoted the way pandas writes BigVul. */
const q = (v: string | number): string => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const header = ['', 'CVE ID', 'CWE ID', 'commit_id', 'file_name', 'func_after', 'func_before', 'lang', 'lines_before', 'project', 'vul'];
const row = (cells: Array<string | number>): string => cells.map(q).join(',');

const before = 'static int copy(char *dst, const char *src)\n{\n  strcpy(dst, src);\n  puts("done, \\"ok\\"");\n  return 0;\n}';
const after = 'static int copy(char *dst, const char *src, size_t n)\n{\n  strncpy(dst, src, n);\n  puts("done, \\"ok\\"");\n  return 0;\n}';

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

describe('bigvul importer', () => {
  it('gives a vulnerable row its fixed twin, paired, with flaw lines from lines_before; other rows one safe sample', async () => {
    const file = join(dir, 'MSR_data_cleaned.csv');
    const lines = [
      row(header),
      row([0, 'CVE-2017-1000', 'CWE-119', 'c0ffee', 'lib/copy.c', after, before, 'C', '  strcpy(dst, src);', 'libcopy', 1]),
      row([1, '', 'NVD-CWE-Other', 'beef', 'src/x.cpp', 'int Widget::size() const { return n; }', 'int Widget::size() const { return n; }', 'C++', '', 'widgets', 0]),
    ];
    writeFileSync(file, lines.join('\r\n') + '\r\n');
    const s = await kb.ingest('bigvul', file);
    expect(s).toMatchObject({ read: 2, samples: 3, inserted: 3, rejected: 0 });
    const [vuln, twin, safe] = kb.samples();
    expect(vuln!.code).toBe(before);
    expect(vuln!.label).toBe(1);
    expect(vuln!.flaw_lines).toEqual([3]);
    expect(vuln!.cwes).toEqual(['CWE-119']);
    expect(vuln!.meta).toMatchObject({ cve: 'CVE-2017-1000' });
    expect(vuln!.project).toBe('libcopy');
    expect(vuln!.commit_id).toBe('c0ffee');
    expect(vuln!.file).toBe('lib/copy.c');
    expect(twin!.code).toBe(after);
    expect(twin!.label).toBe(0);
    expect(twin!.flaw_lines).toEqual([]);
    expect(twin!.pair_id).toBe(vuln!.pair_id);
    expect(vuln!.pair_id).toBe('bigvul:MSR_data_cleaned.csv#0');
    expect(safe!.label).toBe(0);
    expect(safe!.pair_id).toBeNull();
    expect(safe!.cwes).toEqual([]); // NVD placeholder dropped
    expect(safe!.language).toBe('cpp');
    expect(kb.sources().map((r) => r.source_key)).toEqual([
      'MSR_data_cleaned.csv#0:before',
      'MSR_data_cleaned.csv#0:after',
      'MSR_data_cleaned.csv#1',
    ]);
  });

  it('reports a malformed CSV record with its line and imports the records around it', async () => {
    const file = join(dir, 'bad.csv');
    const lines = [
      row(header),
      row([0, '', 'CWE-20', 'a1', 'a.c', 'int a(void) {\n  return 0;\n}', 'int a(void) {\n  return 1;\n}', 'C', '  return 1;', 'p', 1]),
      '1,,CWE-20,b1,b.c,"int b(void) { return 0; }"junk,int b(void) { return 0; },C,,p,0',
      '2,too,few,fields',
      row([3, '', '', 'c1', 'c.c', '', 'int c(void) { return 3; }', 'C', '', 'p', 0]),
      row([4, '', '', 'd1', 'd.c', '', '', 'C', '', 'p', 0]),
      row([5, '', '', 'e1', 'e.c', '', 'int e(void) { return 5; }', 'C', '', 'p', 'perhaps']),
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    const s = await kb.ingest('bigvul', file);
    expect(s).toMatchObject({ read: 6, samples: 3, inserted: 3, rejected: 4 });
    expect(kb.rejections()).toEqual([
      // The first record spans lines 2-6 (its two functions hold newlines).
      { source: 'bad.csv', line: 7, reason: 'malformed CSV: unexpected "j" after a closing quote (line 7)' },
      { source: 'bad.csv', line: 8, reason: 'malformed CSV record: expected 11 fields, got 4' },
      { source: 'bad.csv', line: 10, reason: 'field "func_before" is empty' },
      { source: 'bad.csv', line: 11, reason: expect.stringMatching(/field "vul": expected a label/) },
    ]);
    expect(kb.samples()[0]!.flaw_lines).toEqual([2]);
  });

  it('refuses a CSV without BigVul columns, naming the file', async () => {
    const file = join(dir, 'other.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    await expect(kb.ingest('bigvul', file)).rejects.toThrow(/other\.csv:1: not a BigVul CSV: the header needs func_before and vul/);
  });

  it('reads lines_before as line numbers or as removed text', () => {
    const code = 'int f(void)\n{\n  a();\n  b();\n  a();\n}';
    expect(flawLinesFrom('[3, 5]', code)).toEqual([3, 5]);
    expect(flawLinesFrom('a();\n  a();', code)).toEqual([3, 5]);
    expect(flawLinesFrom('b();/~/missing();', code)).toEqual([4]);
    expect(flawLinesFrom('', code)).toEqual([]);
  });
});
