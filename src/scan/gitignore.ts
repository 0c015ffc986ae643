import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { compileGlob, type CompiledGlob } from './glob.js';

/**
 * .gitignore rules as git applies them: files are read per directory, patterns are relative to
 * the directory holding the file, the last matching pattern wins (`!` re-includes), a trailing
 * '/' matches directories only, and nothing below an ignored directory can be re-included
 * (the walker never descends into it).
 */
export interface IgnoreRule {
  glob: CompiledGlob;
  negate: boolean;
  dirOnly: boolean;
  /** Absolute directory the pattern is relative to. */
  base: string;
  /** Where it was written, for messages: "path/.gitignore:3". */
  origin: string;
}

/** Parses .gitignore text (patterns relative to `base`). */
export function parseIgnoreFile(text: string, base: string, origin: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    let line = raw;
    if (line === '' || line.startsWith('#')) return;
    // Trailing spaces are ignored unless escaped with a backslash.
    line = line.replace(/(?<!\\)[ \t]+$/, '').replace(/\\ $/, ' ');
    if (line === '') return;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
      line = line.slice(1);
    }
    const dirOnly = line.endsWith('/') && !line.endsWith('\\/');
    if (dirOnly) line = line.slice(0, -1);
    if (line === '' || line === '/') return;
    rules.push({ glob: compileGlob(line), negate, dirOnly, base, origin: `${origin}:${index + 1}` });
  });
  return rules;
}

/** The rules of one directory's .gitignore (none when it has no such file or it cannot be read). */
export function readIgnoreFile(dir: string, name = '.gitignore'): IgnoreRule[] {
  const file = join(dir, name);
  try {
    if (!existsSync(file) || !statSync(file).isFile()) return [];
    return parseIgnoreFile(readFileSync(file, 'utf8'), dir, file);
  } catch {
    return [];
  }
}

/** The decision for one path: the last rule that matches, if any. */
export function ignoredBy(rules: readonly IgnoreRule[], absPath: string, isDir: boolean): IgnoreRule | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (rule.dirOnly && !isDir) continue;
    const rel = relative(rule.base, absPath);
    if (rel === '' || rel.startsWith('..')) continue;
    if (rule.glob.test(rel.split(sep).join('/'))) return rule;
  }
  return undefined;
}

export function isIgnored(rules: readonly IgnoreRule[], absPath: string, isDir: boolean): boolean {
  const rule = ignoredBy(rules, absPath, isDir);
  return rule !== undefined && !rule.negate;
}

/** The closest directory at or above `dir` that holds a .git entry (a work tree's top), if any. */
export function findRepoRoot(dir: string): string | undefined {
  let current = dir;
  for (;;) {
    if (existsSync(join(current, '.git'))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * Rules that apply on entering `dir` from above: .git/info/exclude and the .gitignore files of
 * the work tree's directories from its top down to `dir`'s parent (dir's own file is read by the
 * walker when it enters it).
 */
export function inheritedRules(dir: string): IgnoreRule[] {
  const top = findRepoRoot(dir);
  if (!top) return [];
  const rules = readIgnoreFile(join(top, '.git', 'info'), 'exclude').map((r) => ({ ...r, base: top }));
  const chain: string[] = [];
  for (let d = dir; d !== top; ) {
    d = dirname(d);
    chain.unshift(d);
  }
  for (const d of chain) rules.push(...readIgnoreFile(d));
  return rules;
}
