import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { InputError } from '../util/errors.js';

/**
 * `--changed-since GITREF`: absolute paths of the files that differ from GITREF in the work tree
 * (committed, staged or not), plus untracked files that are not ignored, which are new since any
 * ref. Deleted files are not listed (there is nothing to scan).
 */
export function changedFiles(dir: string, ref: string): Set<string> {
  const top = git(dir, ['rev-parse', '--show-toplevel'], `${dir}: not inside a git work tree (needed by --changed-since)`).trim();
  git(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], `--changed-since ${ref}: no such commit in ${top}`);
  const diff = git(dir, ['diff', '--name-only', '--diff-filter=d', '-z', ref, '--'], `git diff against ${ref} failed`);
  const untracked = git(dir, ['ls-files', '--others', '--exclude-standard', '-z'], 'git ls-files failed');
  const out = new Set<string>();
  for (const name of diff.split('\0').filter(Boolean)) out.add(resolve(top, name));
  // ls-files names are relative to the directory it runs in.
  for (const name of untracked.split('\0').filter(Boolean)) out.add(resolve(dir, name));
  return out;
}

function git(cwd: string, args: string[], failure: string): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new InputError(`${failure} (git: ${r.error.message})`);
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n')[0];
    throw new InputError(why ? `${failure}: ${why}` : failure);
  }
  return r.stdout;
}
