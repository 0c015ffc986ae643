import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allWrappers, generateSynth, templates } from '../../src/corpus/synth/index.js';

/**
 * Every generated translation unit must compile. C is checked with the errors that newer compilers
 * (and C99 itself) require, so a missing #include or a pointer/int mix-up fails here too; printf
 * format mismatches are errors in both languages. The two warnings that are the point of some
 * vulnerable samples (returning a local's address, a non-literal format) are left as warnings.
 */
const count = 2 * templates.length * allWrappers.length;
const samples = generateSynth({ count, seed: 77 });
const dir = mkdtempSync(join(tmpdir(), 'finesec-synth-cc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const common = ['-fsyntax-only', '-Wformat', '-Werror=format', '-Wno-format-security', '-Wno-return-local-addr'];
const cOnly = ['-std=gnu17', '-Werror=implicit-function-declaration', '-Werror=implicit-int', '-Werror=int-conversion', '-Werror=incompatible-pointer-types'];

function hasCompiler(cc: string): boolean {
  const r = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
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

describe('generated code compiles', () => {
  it('covers every template with every wrapper and both languages in the compiled sample', () => {
    expect(new Set(samples.map((s) => `${s.templateId}/${s.wrapper}`)).size).toBe(templates.length * allWrappers.length);
    expect(new Set(samples.map((s) => s.language))).toEqual(new Set(['c', 'cpp']));
  });

  it('passes gcc -fsyntax-only (C) and g++ -fsyntax-only (C++)', async () => {
    const missing = ['gcc', 'g++'].filter((cc) => !hasCompiler(cc));
    if (missing.length > 0) {
      console.warn(`compile check not run: ${missing.join(' and ')} not found on this machine`);
      return;
    }
    const files = { c: [] as string[], cpp: [] as string[] };
    samples.forEach((s, i) => {
      const file = join(dir, `s${i}.${s.language === 'c' ? 'c' : 'cpp'}`);
      writeFileSync(file, s.code);
      files[s.language].push(file);
    });
    const [c, cpp] = await Promise.all([
      compile('gcc', [...common, ...cOnly, '-x', 'c', ...files.c]),
      compile('g++', [...common, '-x', 'c++', ...files.cpp]),
    ]);
    const explain = (r: { stderr: string }): string => r.stderr.split('\n').slice(0, 40).join('\n');
    expect(c.code, explain(c)).toBe(0);
    expect(cpp.code, explain(cpp)).toBe(0);
    expect(files.c.length + files.cpp.length).toBe(count);
  });
});
