import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../util/errors.js';
import { anyGlob } from './glob.js';
import { inheritedRules, isIgnored, readIgnoreFile, type IgnoreRule } from './gitignore.js';

/**
 * The files a scan reads: every C/C++ source under the given paths, in a stable order, minus
 * what .gitignore, the vendored-directory names and --exclude leave out (counted, not listed),
 * and with every entry that cannot be scanned (not a regular file, broken link, symlink loop,
 * unreadable directory) reported with its reason. Symbolic links are followed; a directory is
 * entered at most once, and a link back to an enclosing directory is a loop, skipped.
 */
export const DEFAULT_EXTENSIONS = ['c', 'h', 'cc', 'cpp', 'cxx', 'c++', 'hh', 'hpp', 'hxx', 'h++', 'inl', 'ipp', 'tpp'];
export const DEFAULT_SKIP_DIRS = ['vendor', 'third_party', 'node_modules', 'build'];

export interface WalkOptions {
  /** Absolute directory that relative paths (globs, output) are measured from. */
  root: string;
  /** File name extensions (without the dot, compared case-insensitively) that hold C/C++. */
  extensions?: readonly string[];
  /** When non-empty, only files matching one of these globs (relative to root) are scanned. */
  include?: readonly string[];
  /** Files and directories matching one of these globs are not scanned. */
  exclude?: readonly string[];
  /** Directory names never entered (vendored or build output), at any depth. */
  skipDirs?: readonly string[];
  /** Honour .gitignore files (default true). */
  gitignore?: boolean;
  /** Absolute directories never entered (the workspace). */
  skipPaths?: readonly string[];
}

export interface WalkFile {
  /** Path to open (as reached, through links). */
  path: string;
  /** Relative to the root, '/'-separated: the name used in every output. */
  rel: string;
  size: number;
}

export type SkipKind = 'not-regular' | 'broken-link' | 'symlink-loop' | 'unreadable';

export interface WalkSkip {
  rel: string;
  kind: SkipKind;
  reason: string;
}

export interface WalkResult {
  files: WalkFile[];
  skipped: WalkSkip[];
  excluded: { gitignored: number; vendored: number; filtered: number; duplicates: number };
}

export function walkPaths(paths: readonly string[], options: WalkOptions): WalkResult {
  const root = resolve(options.root);
  const extensions = new Set((options.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase().replace(/^\./, '')));
  const include = options.include && options.include.length > 0 ? anyGlob(options.include) : undefined;
  const exclude = anyGlob(options.exclude ?? []);
  const skipDirs = new Set(options.skipDirs ?? DEFAULT_SKIP_DIRS);
  const skipPaths = new Set((options.skipPaths ?? []).map((p) => resolve(p)));
  const useGitignore = options.gitignore ?? true;
  const result: WalkResult = { files: [], skipped: [], excluded: { gitignored: 0, vendored: 0, filtered: 0, duplicates: 0 } };
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  const relOf = (p: string): string => relative(root, resolve(p)).split(sep).join('/') || basename(resolve(p));
  const skip = (p: string, kind: SkipKind, reason: string): void => {
    result.skipped.push({ rel: relOf(p), kind, reason });
  };
  const isSource = (name: string): boolean => {
    const dot = name.lastIndexOf('.');
    return dot > 0 && extensions.has(name.slice(dot + 1).toLowerCase());
  };
  const addFile = (path: string, st: Stats): void => {
    const id = `${st.dev}:${st.ino}`;
    if (seenFiles.has(id)) {
      result.excluded.duplicates++;
      return;
    }
    seenFiles.add(id);
    result.files.push({ path, rel: relOf(path), size: st.size });
  };

  const walkDir = (dir: string, inherited: IgnoreRule[], chain: ReadonlySet<string>): void => {
    const rules = useGitignore ? [...inherited, ...readIgnoreFile(dir)] : inherited;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      skip(dir, 'unreadable', `cannot list directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const full = join(dir, entry.name);
      if (skipPaths.has(full)) continue;
      let st: Stats;
      if (entry.isSymbolicLink()) {
        try {
          st = statSync(full);
        } catch (err) {
          if (isSource(entry.name)) skip(full, 'broken-link', `broken symbolic link (${(err as NodeJS.ErrnoException).code ?? 'cannot follow'})`);
          continue;
        }
      } else if (entry.isDirectory() || entry.isFile()) {
        st = entry.isDirectory() ? statSync(full) : lstatSync(full);
      } else {
        if (isSource(entry.name)) skip(full, 'not-regular', `not a regular file (${kindOf(entry)})`);
        continue;
      }
      const rel = relOf(full);
      if (st.isDirectory()) {
        if (skipDirs.has(entry.name)) {
          result.excluded.vendored++;
          continue;
        }
        if (useGitignore && isIgnored(rules, full, true)) {
          result.excluded.gitignored++;
          continue;
        }
        if (exclude(rel)) {
          result.excluded.filtered++;
          continue;
        }
        const id = `${st.dev}:${st.ino}`;
        if (chain.has(id)) {
          skip(full, 'symlink-loop', 'symbolic link loop: it leads back to a directory that contains it');
          continue;
        }
        if (seenDirs.has(id)) {
          result.excluded.duplicates++;
          continue;
        }
        seenDirs.add(id);
        walkDir(full, rules, new Set([...chain, id]));
        continue;
      }
      if (!isSource(entry.name)) continue;
      if (!st.isFile()) {
        skip(full, 'not-regular', `not a regular file (${statKind(st)})`);
        continue;
      }
      if (useGitignore && isIgnored(rules, full, false)) {
        result.excluded.gitignored++;
        continue;
      }
      if (exclude(rel) || (include && !include(rel))) {
        result.excluded.filtered++;
        continue;
      }
      addFile(full, st);
    }
  };

  for (const given of paths) {
    const abs = resolve(given);
    let st: Stats;
    try {
      st = statSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        let dangling = false;
        try {
          dangling = lstatSync(abs).isSymbolicLink();
        } catch {
          dangling = false;
        }
        throw new InputError(`${given}: ${dangling ? 'broken symbolic link' : 'no such file or directory'}`);
      }
      if (code === 'ELOOP') throw new InputError(`${given}: symbolic link loop`);
      throw new InputError(`${given}: cannot read (${code ?? (err as Error).message})`);
    }
    if (st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (seenDirs.has(id)) continue;
      seenDirs.add(id);
      walkDir(abs, useGitignore ? inheritedRules(abs) : [], new Set([id]));
    } else if (st.isFile()) {
      // A file named on the command line is scanned whatever the filters say.
      addFile(abs, st);
    } else {
      skip(abs, 'not-regular', `not a regular file (${statKind(st)})`);
    }
  }
  return result;
}

function kindOf(entry: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (entry.isFIFO()) return 'FIFO';
  if (entry.isSocket()) return 'socket';
  if (entry.isCharacterDevice()) return 'character device';
  if (entry.isBlockDevice()) return 'block device';
  return 'special file';
}

function statKind(st: Stats): string {
  return kindOf(st);
}
