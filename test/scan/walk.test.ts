import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { compileGlob } from '../../src/scan/glob.js';
import { isIgnored, parseIgnoreFile } from '../../src/scan/gitignore.js';
import { walkPaths } from '../../src/scan/walk.js';

const tmp = tempDir('finesec-scan-walk-');
afterAll(() => tmp.cleanup());

function tree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

const C = 'int f(void) { return 0; }\n';

describe('globs (gitignore semantics)', () => {
  it('matches names at any depth unless anchored, and never crosses / with * or ?', () => {
    const g = (p: string, path: string): boolean => compileGlob(p).test(path);
    expect(g('*.c', 'a.c')).toBe(true);
    expect(g('*.c', 'x/y/a.c')).toBe(true);
    expect(g('*.c', 'a.cc')).toBe(false);
    expect(g('/a.c', 'a.c')).toBe(true);
    expect(g('/a.c', 'x/a.c')).toBe(false);
    expect(g('src/*.c', 'src/a.c')).toBe(true);
    expect(g('src/*.c', 'src/x/a.c')).toBe(false);
    expect(g('src/*.c', 'lib/src/a.c')).toBe(false);
    expect(g('a?.c', 'ab.c')).toBe(true);
    expect(g('a?.c', 'a/.c')).toBe(false);
  });

  it('handles **, classes and escapes', () => {
    const g = (p: string, path: string): boolean => compileGlob(p).test(path);
    expect(g('**/test/*.c', 'test/a.c')).toBe(true);
    expect(g('**/test/*.c', 'x/y/test/a.c')).toBe(true);
    expect(g('src/**', 'src/a/b/c.c')).toBe(true);
    expect(g('src/**', 'lib/src/a.c')).toBe(false);
    expect(g('a/**/b.c', 'a/b.c')).toBe(true);
    expect(g('a/**/b.c', 'a/x/y/b.c')).toBe(true);
    expect(g('a/**/b.c', 'ab.c')).toBe(false);
    expect(g('[ab].c', 'a.c')).toBe(true);
    expect(g('[ab].c', 'c.c')).toBe(false);
    expect(g('[!ab].c', 'c.c')).toBe(true);
    expect(g('[!ab].c', 'a.c')).toBe(false);
    expect(g('\\*.c', '*.c')).toBe(true);
    expect(g('\\*.c', 'a.c')).toBe(false);
    expect(g('file[1-3].c', 'file2.c')).toBe(true);
    expect(g('file[1-3].c', 'file4.c')).toBe(false);
  });
});

describe('.gitignore rules', () => {
  const base = '/repo';
  const rules = parseIgnoreFile(
    ['# comment', '*.gen.c', '!keep.gen.c', 'out/', '/top.c', 'docs/**/*.c', '\\#hash.c', 'trailing.c   ', ''].join('\n'),
    base,
    '/repo/.gitignore',
  );
  const ignored = (rel: string, dir = false): boolean => isIgnored(rules, `${base}/${rel}`, dir);

  it('applies patterns, negation, directory-only, anchoring and **', () => {
    expect(ignored('a.gen.c')).toBe(true);
    expect(ignored('x/a.gen.c')).toBe(true);
    expect(ignored('x/keep.gen.c')).toBe(false);
    expect(ignored('out', true)).toBe(true);
    expect(ignored('src/out', true)).toBe(true);
    expect(ignored('out', false)).toBe(false);
    expect(ignored('top.c')).toBe(true);
    expect(ignored('sub/top.c')).toBe(false);
    expect(ignored('docs/a/b/x.c')).toBe(true);
    expect(ignored('docs/x.c')).toBe(true);
    expect(ignored('src/docs/x.c')).toBe(false);
    expect(ignored('#hash.c')).toBe(true);
    expect(ignored('trailing.c')).toBe(true);
    expect(ignored('main.c')).toBe(false);
  });

  it('lets the last matching rule win', () => {
    const r = parseIgnoreFile('!a.c\n*.c\n', base, 'x');
    expect(isIgnored(r, '/repo/a.c', false)).toBe(true);
    const r2 = parseIgnoreFile('*.c\n!a.c\n', base, 'x');
    expect(isIgnored(r2, '/repo/a.c', false)).toBe(false);
  });
});

describe('walkPaths', () => {
  it('honours nested .gitignore files, vendored directories, include and exclude', () => {
    const root = join(tmp.dir, 'repo');
    tree(root, {
      '.gitignore': 'generated/\n*.tmp.c\n',
      'src/main.c': C,
      'src/util.h': C,
      'src/skip.tmp.c': C,
      'src/README.md': '# not code',
      'src/.gitignore': 'local.c\n!keep.tmp.c\n',
      'src/local.c': C,
      'src/keep.tmp.c': C,
      'src/sub/local.c': C,
      'generated/g.c': C,
      'vendor/lib.c': C,
      'lib/third_party/x.c': C,
      'tests/t.c': C,
      'src/widget.cpp': C,
    });
    mkdirSync(join(root, '.git'), { recursive: true });
    writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const r = walkPaths([root], { root });
    expect(r.files.map((f) => f.rel)).toEqual(['src/keep.tmp.c', 'src/main.c', 'src/util.h', 'src/widget.cpp', 'tests/t.c']);
    expect(r.excluded).toMatchObject({ gitignored: 4, vendored: 2 });

    const filtered = walkPaths([root], { root, include: ['src/**'], exclude: ['*.h', 'tests'] });
    expect(filtered.files.map((f) => f.rel)).toEqual(['src/keep.tmp.c', 'src/main.c', 'src/widget.cpp']);

    const everything = walkPaths([root], { root, gitignore: false, skipDirs: [] });
    expect(everything.files.map((f) => f.rel)).toContain('vendor/lib.c');
    expect(everything.files.map((f) => f.rel)).toContain('generated/g.c');
    expect(everything.files.map((f) => f.rel)).toContain('src/sub/local.c');
  });

  it('reads .gitignore files above a scanned subdirectory', () => {
    const root = join(tmp.dir, 'nested');
    tree(root, { '.gitignore': 'a/b/ignored.c\n', 'a/b/ignored.c': C, 'a/b/kept.c': C });
    mkdirSync(join(root, '.git'));
    const r = walkPaths([join(root, 'a')], { root });
    expect(r.files.map((f) => f.rel)).toEqual(['a/b/kept.c']);
  });

  it('follows symbolic links once, skips loops, broken links and special files with reasons', () => {
    const root = join(tmp.dir, 'links');
    tree(root, { 'real/a.c': C, 'other/b.c': C });
    symlinkSync('../real', join(root, 'other', 'alias'));
    symlinkSync('..', join(root, 'real', 'loop'));
    symlinkSync('missing.c', join(root, 'real', 'dangling.c'));
    symlinkSync('a.c', join(root, 'real', 'same.c'));
    execFileSync('mkfifo', [join(root, 'real', 'pipe.c')]);
    const r = walkPaths([root], { root });
    expect(r.files.map((f) => f.rel)).toEqual(['other/alias/a.c', 'other/b.c']);
    const skipped = Object.fromEntries(r.skipped.map((s) => [s.rel, s]));
    // other/ sorts first, so real/ is entered as other/alias and not again as real/.
    expect(skipped['other/alias/loop']).toMatchObject({ kind: 'symlink-loop', reason: 'symbolic link loop: it leads back to a directory that contains it' });
    expect(r.skipped).toHaveLength(3);
    expect(skipped['other/alias/dangling.c']).toMatchObject({ kind: 'broken-link', reason: 'broken symbolic link (ENOENT)' });
    expect(skipped['other/alias/pipe.c']).toMatchObject({ kind: 'not-regular', reason: 'not a regular file (FIFO)' });
    // real/ is the same directory as other/alias: entered once; same.c is a.c.
    expect(r.excluded.duplicates).toBeGreaterThanOrEqual(2);
  });

  it('scans a file named on the command line whatever the filters say, and refuses a missing path', () => {
    const root = join(tmp.dir, 'explicit');
    tree(root, { 'vendor/x.inc': C });
    const r = walkPaths([join(root, 'vendor', 'x.inc')], { root, exclude: ['vendor'] });
    expect(r.files.map((f) => f.rel)).toEqual(['vendor/x.inc']);
    expect(() => walkPaths([join(root, 'nope')], { root })).toThrow(/nope: no such file or directory/);
  });
});
