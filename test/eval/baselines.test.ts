import { describe, expect, it } from 'vitest';
import { cppcheck, parseCppcheckXml } from '../../src/eval/baselines/cppcheck.js';
import { flawfinder, parseCsv, parseFlawfinderCsv } from '../../src/eval/baselines/flawfinder.js';
import { parseBaseline, type Baseline } from '../../src/eval/baselines/index.js';
import { SampleFiles } from '../../src/eval/baselines/tool.js';
import type { Language } from '../../src/kb/samples.js';

/** Runs a baseline on one snippet through a real temporary file, as eval does. */
async function analyze(baseline: Baseline, code: string, language: Language = 'c') {
  if (baseline.version() === undefined) throw new Error(`${baseline.name} is not installed (apt-get install ${baseline.name.split(':')[0]})`);
  const files = new SampleFiles();
  try {
    const file = files.write(code, language);
    expect(file.name).toMatch(language === 'cpp' ? /^sample\d+\.cpp$/ : /^sample\d+\.c$/);
    return await baseline.analyze({ ...file, dir: files.dir }, language);
  } finally {
    files.close();
  }
}

const strcpyOverflow = [
  '#include <string.h>',
  'void greet(const char *name)',
  '{',
  '    char buf[16];',
  '    strcpy(buf, name);',
  '}',
  '',
].join('\n');

const boundedCopy = [
  '#include <string.h>',
  'void greet(const char *name, size_t n)',
  '{',
  '    char buf[16];',
  '    if (n >= sizeof(buf)) return;',
  '    memcpy(buf, name, n);',
  '    buf[n] = 0;',
  '}',
  '',
].join('\n');

const nullDeref = ['int first(void)', '{', '    int *p = 0;', '    return *p;', '}', ''].join('\n');

const leak = [
  '#include <stdlib.h>',
  'int fill(int n)',
  '{',
  '    char *m = malloc(16);',
  '    if (n > 3)',
  '        return -1;',
  '    free(m);',
  '    return 0;',
  '}',
  '',
].join('\n');

const styleOnly = ['int twice(int x)', '{', '    int unused = 3;', '    return x * 2;', '}', ''].join('\n');

describe('flawfinder baseline', () => {
  it('flags a strcpy into a fixed buffer with CWE-120 on the strcpy line', async () => {
    const a = await analyze(flawfinder(), strcpyOverflow);
    expect(a.error).toBeNull();
    expect(a.vulnerable).toBe(true);
    expect(a.cwes).toContain('CWE-120');
    expect(a.lines).toEqual([5]);
    expect(a.score).toBeCloseTo(4 / 5, 10);
    // The char array is a level-2 hit: reported, but it does not count at the default threshold.
    expect(a.findings.some((f) => f.rule === 'char' && f.line === 4 && !f.counts)).toBe(true);
  });

  it('clears a bounded copy at the default level 3, and flags it at flawfinder:2', async () => {
    const strict = await analyze(flawfinder(), boundedCopy);
    expect(strict.vulnerable).toBe(false);
    expect(strict.findings.length).toBeGreaterThan(0);
    expect(strict.score).toBeCloseTo(2 / 5, 10);
    const loose = await analyze(parseBaseline('flawfinder:2'), boundedCopy);
    expect(loose.vulnerable).toBe(true);
    expect(parseBaseline('flawfinder:2').name).toBe('flawfinder:2');
  });
});

describe('cppcheck baseline', () => {
  it('flags a null pointer dereference as CWE-476 and a leak as CWE-401', async () => {
    const deref = await analyze(cppcheck, nullDeref);
    expect(deref.error).toBeNull();
    expect(deref.vulnerable).toBe(true);
    expect(deref.cwes).toEqual(['CWE-476']);
    expect(deref.lines).toEqual([4]);
    expect(deref.score).toBe(1);

    const leaked = await analyze(cppcheck, leak);
    expect(leaked.vulnerable).toBe(true);
    expect(leaked.cwes).toContain('CWE-401');
    expect(leaked.findings.find((f) => f.rule === 'memleak')).toMatchObject({ severity: 'error', counts: true, line: 6 });
  });

  it('does not count style findings, and reports a file it cannot parse as an error, not a finding', async () => {
    const style = await analyze(cppcheck, styleOnly);
    expect(style.vulnerable).toBe(false);
    expect(style.findings.some((f) => f.severity === 'style')).toBe(true);
    expect(style.score).toBe(0.25);

    const broken = await analyze(cppcheck, 'int f( { return\n');
    expect(broken.vulnerable).toBe(false);
    expect(broken.error).toMatch(/^cppcheck could not parse the file: /);

    const cpp = await analyze(cppcheck, 'void g() {\n    int *p = new int[4];\n    p[7] = 1;\n    delete[] p;\n}\n', 'cpp');
    expect(cpp.vulnerable).toBe(true);
    expect(cpp.cwes).toContain('CWE-788');
  });
});

describe('baseline output parsing', () => {
  it('reads cppcheck XML attributes, entities and the primary location', () => {
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<results version="2"><cppcheck version="2.10"/><errors>',
      '<error id="nullPointer" severity="error" msg="Null pointer dereference: &apos;q&apos; &lt;here&gt;" verbose="v" cwe="476" file0="a.c">',
      '<location file="a.c" line="11" column="13"/><location file="a.c" line="10" column="14"/><symbol>q</symbol></error>',
      '<error id="unknownMacro" severity="error" msg="m" verbose="v" file0="a.c"><location file="a.c" line="2" column="1"/></error>',
      '<error id="toomanyconfigs" severity="information" msg="too many" verbose="v"/>',
      '</errors></results>',
    ].join('\n');
    expect(parseCppcheckXml(xml)).toEqual([
      { rule: 'nullPointer', severity: 'error', line: 11, cwe: 'CWE-476', message: "Null pointer dereference: 'q' <here>", counts: true },
      { rule: 'unknownMacro', severity: 'error', line: 2, cwe: null, message: 'm', counts: false },
      { rule: 'toomanyconfigs', severity: 'information', line: null, cwe: null, message: 'too many', counts: false },
    ]);
  });

  it('reads flawfinder CSV with quoted fields and several CWEs per hit', () => {
    const header = 'File,Line,Column,DefaultLevel,Level,Category,Name,Warning,Suggestion,Note,CWEs,Context,Fingerprint,ToolVersion,RuleId,HelpUri';
    const csv = [
      header,
      'a.c,4,5,2,2,buffer,char,"Statically-sized arrays (CWE-119!/CWE-120).","Perform bounds checking, use functions",,CWE-119!/CWE-120,"  char b[8];",ff,2.0.19,FF1013,https://x',
      'a.c,6,3,4,4,format,printf,"If format strings ""can"" be influenced",Use a constant,,CWE-134,"  printf(p);",ff,2.0.19,FF1016,https://x',
      '',
    ].join('\n');
    expect(parseCsv(csv)[2]![7]).toBe('If format strings "can" be influenced');
    expect(parseFlawfinderCsv(csv)).toEqual([
      { rule: 'char', severity: '2', line: 4, cwe: 'CWE-119', message: 'Statically-sized arrays (CWE-119!/CWE-120).', counts: false },
      { rule: 'char', severity: '2', line: 4, cwe: 'CWE-120', message: 'Statically-sized arrays (CWE-119!/CWE-120).', counts: false },
      { rule: 'printf', severity: '4', line: 6, cwe: 'CWE-134', message: 'If format strings "can" be influenced', counts: true },
    ]);
    expect(() => parseFlawfinderCsv('File,Line\na.c,1\n')).toThrow(/no "Level" column/);
    expect(() => parseCsv('a,"b\n')).toThrow(/unterminated/);
  });

  it('parses --baseline values and refuses unknown ones', () => {
    expect(parseBaseline('cppcheck').name).toBe('cppcheck');
    expect(parseBaseline('flawfinder').name).toBe('flawfinder');
    expect(() => parseBaseline('splint')).toThrow('eval: --baseline splint: expected one of cppcheck, flawfinder, flawfinder:LEVEL');
    expect(() => parseBaseline('flawfinder:9')).toThrow('eval: --baseline flawfinder:9: the flawfinder level must be 0..5');
    expect(() => parseBaseline('cppcheck:1')).toThrow(/expected one of/);
  });
});
