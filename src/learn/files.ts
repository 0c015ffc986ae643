import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError, errorMessage } from '../util/errors.js';

const memo = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** sha256 of a file's bytes, read in chunks; remembered per process while size and mtime stay the same. */
export function fileSha256(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${errorMessage(err)})`, err);
  }
  const known = memo.get(path);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const sha256 = hash.digest('hex');
  memo.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

/** Copies a file through a temporary name in the target folder, so a crash never leaves half a file. */
export function copyFileAtomic(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  copyFileSync(from, tmp);
  renameSync(tmp, to);
}

/** A sortable id: prefix, UTC time to the second, and random hex (e.g. ad-20250101-120000-a1b2c3). */
export function newId(prefix: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}
