import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { generateSynth } from '../../src/corpus/synth/index.js';
import { loadParsers } from '../../src/corpus/treesitter.js';
import { REWRITES, rewrite, rewriteAllSync } from '../../src/eval/robustness/rewrites.js';

const tmp = tempDir('finesec-rewrites-');
afterAll(() => tmp.cleanup());
beforeAll(async () => {
  await loadParsers();
});

const cCode = [
  '#include <stdio.h>',
  '#define USE_TOTAL (total + 1)',
  '',
  'static int counter;',
  '',
  'int copy_name(char *dst, const char *src, int limit)',
  '{',
  '    int total = 0;',
  '    int count = limit;',
  '    char *tmp;',
  '    const char *msg = "if (x)  keep";',
  '    /* if (a)',
  '        stays */',
  '    for (int i = 0; i < count; i++) {',
  '        dst[i] = src[i];',
  '        total += i;',
  '    }',
  '    counter++;',
  '    printf("%s %p", msg, (void *)tmp);',
  '    return USE_TOTAL;',
  '}',
  '',
].join('\n');

function replaceLines(code: string, replacements: Record<number, string>): string {
  const lines = code.split('\n');
  for (const [i, text] of Object.entries(replacements)) lines[Number(i) - 1] = text;
  return lines.join('\n');
}

describe('robustness rewrites on hand-written code', () => {
  it('renames parameters and locals, but not globals, names used by macros, or text in strings', () => {
    expect(rewrite('rename', cCode, 'c')).toBe(
      replaceLines(cCode, {
        6: 'int copy_name(char *v1, const char *v2, int v3)',
        9: '    int v4 = v3;',
        10: '    char *v5;',
        11: '    const char *v6 = "if (x)  keep";',
        14: '    for (int v7 = 0; v7 < v4; v7++) {',
        15: '        v1[v7] = v2[v7];',
        16: '        total += v7;',
        19: '    printf("%s %p", v6, (void *)v5);',
      }),
    );
  });

  it('inserts dead code on the line of each function body\'s opening brace', () => {
    expect(rewrite('dead_code', cCode, 'c')).toBe(replaceLines(cCode, { 7: '{ if (0) { int unused_1 = 0; unused_1++; }' }));
  });

  it('re-indents and flips keyword spacing outside strings and comments', () => {
    const out = rewrite('reformat', cCode, 'c');
    expect(out.split('\n')).toEqual([
      '#include <stdio.h>',
      '#define USE_TOTAL (total + 1)',
      '',
      'static int counter;',
      '',
      'int copy_name(char *dst, const char *src, int limit)',
      '{',
      '\tint total = 0;',
      '\tint count = limit;',
      '\tchar *tmp;',
      '\tconst char *msg = "if (x)  keep";',
      '\t/* if (a)',
      '        stays */',
      '\tfor(int i = 0; i < count; i++) {',
      '\t\tdst[i] = src[i];',
      '\t\ttotal += i;',
      '\t}',
      '\tcounter++;',
      '\tprintf("%s %p", msg, (void *)tmp);',
      '\treturn USE_TOTAL;',
      '}',
      '',
    ]);
    // And back: tabs become spaces, `for(` becomes `for (`.
    expect(rewrite('reformat', out, 'c')).toContain('  for (int i = 0;');
  });

  it('reverses runs of adjacent independent declarations only', () => {
    expect(rewrite('reorder', cCode, 'c')).toBe(
      replaceLines(cCode, {
        8: '    const char *msg = "if (x)  keep";',
        9: '    char *tmp;',
        10: '    int count = limit;',
        11: '    int total = 0;',
      }),
    );
    const cpp = [
      '#include <string>',
      'namespace cfg { int size = 4; }',
      'int run(int size)',
      '{',
      '    std::string name;',
      '    int width = 3;',
      '    int height = width;',
      '    int depth = 2;',
      '    int seed = rand();',
      '    long area = 0;',
      '    int total = cfg::size + size;',
      '    return total + depth + (int)area + height + seed + (int)name.size();',
      '}',
      '',
    ].join('\n');
    // A class type (constructor), a dependency (height on width) and a call (rand) all end a run.
    expect(rewrite('reorder', cpp, 'cpp')).toBe(
      replaceLines(cpp, {
        7: '    int depth = 2;',
        8: '    int height = width;',
        10: '    int total = cfg::size + size;',
        11: '    long area = 0;',
      }),
    );
    // `cfg::size` names the namespace's variable, not the parameter.
    expect(rewrite('rename', cpp, 'cpp')).toContain('int v8 = cfg::size + v1;');
  });

  it('returns the code unchanged when a rewrite does not apply', () => {
    const flat = 'int x;\n';
    for (const name of REWRITES) expect(rewrite(name, flat, 'c')).toBe(flat);
  });
});

function compilerMissing(): string | undefined {
  for (const cc of ['gcc', 'g++']) {
    const r = spawnSync(cc, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return cc;
  }
  return undefined;
}

function compile(cc: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cc, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('robustness rewrites on generated code', () => {
  it('change the text, keep the line count, and still compile (gcc/g++ -fsyntax-only)', async () => {
    const missing = compilerMissing();
    if (missing) throw new Error(`${missing} is needed for this test (apt-get install build-essential)`);
    const samples = generateSynth({ count: 120, seed: 21 });
    const files = { c: [] as string[], cpp: [] as string[] };
    const changed = Object.fromEntries(REWRITES.map((r) => [r, 0])) as Record<(typeof REWRITES)[number], number>;
    samples.forEach((s, i) => {
      const all = rewriteAllSync(s.code, s.language);
      for (const name of REWRITES) {
        const code = all[name];
        if (code === s.code) continue;
        changed[name]++;
        expect(code.split('\n').length, `${name} keeps the line count of sample ${i}`).toBe(s.code.split('\n').length);
        const file = join(tmp.dir, `s${i}-${name}.${s.language === 'c' ? 'c' : 'cpp'}`);
        writeFileSync(file, code);
        files[s.language].push(file);
      }
    });
    expect(changed.rename).toBe(samples.length);
    expect(changed.dead_code).toBe(samples.length);
    expect(changed.reformat).toBe(samples.length);
    expect(changed.reorder).toBeGreaterThan(5);
    const common = ['-fsyntax-only', '-Wno-format-security', '-Wno-return-local-addr'];
    const [c, cpp] = await Promise.all([
      compile('gcc', [...common, '-std=gnu17', '-Werror=implicit-function-declaration', '-Werror=int-conversion', '-Werror=incompatible-pointer-types', '-x', 'c', ...files.c]),
      compile('g++', [...common, '-x', 'c++', ...files.cpp]),
    ]);
    const explain = (r: { stderr: string }): string => r.stderr.split('\n').slice(0, 30).join('\n');
    expect(c.code, explain(c)).toBe(0);
    expect(cpp.code, explain(cpp)).toBe(0);
  }, 120_000);
});
