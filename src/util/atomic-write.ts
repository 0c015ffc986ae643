import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/** Appends bytes to the file being written. */
export type Put = (bytes: Uint8Array) => void;

/**
 * Writes a file through a temporary name in the same folder, flushed, then renamed over `path`:
 * a crash or a failed write (disk full, killed process) leaves the previous file whole and no
 * half-written one. `write` streams the content through `put`.
 */
export function writeFileAtomic(path: string, write: (put: Put) => void, options: { tempPath?: string } = {}): void {
  const tmp = options.tempPath ?? `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const put: Put = (bytes) => {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd!, bytes, done, bytes.length - done);
    };
    write(put);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the original error is the one to report
      }
    }
    try {
      rmSync(tmp, { force: true });
    } catch {
      // a temporary path that cannot be removed (e.g. a directory) must not hide the real error
    }
    throw err;
  }
}
