import { createHash } from 'node:crypto';
import { createReadStream, existsSync, openSync, readSync, closeSync, statSync, readdirSync, type ReadStream } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { InputError } from '../../util/errors.js';
import type { InputFile } from './types.js';

/**
 * Input files under PATH: PATH itself when it is a file, else every accepted file below it in
 * sorted order (dot-directories, skipped directory names and symbolic links are not followed).
 */
export function listInputFiles(
  path: string,
  accept: (relativePath: string) => boolean,
  options: { skipDirs?: ReadonlySet<string> } = {},
): InputFile[] {
  if (!existsSync(path)) throw new InputError(`${path}: no such file or directory`);
  const stat = statSync(path);
  if (stat.isFile()) return [{ path, key: basename(path), display: path, size: stat.size }];
  const out: InputFile[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.') || options.skipDirs?.has(entry.name)) continue;
        walk(full);
      } else if (entry.isFile()) {
        const rel = relative(path, full).split(sep).join('/');
        if (accept(rel)) out.push({ path: full, key: rel, display: join(path, rel), size: statSync(full).size });
      }
    }
  };
  walk(path);
  return out;
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const n = readSync(fd, head, 0, 2, 0);
    return n === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** A readable of the file's text (gunzipped when it is gzip), and how much of the file was read. */
export function openText(path: string, size: number): { stream: Readable; fraction: () => number } {
  // Small reads keep bytesRead close to what was consumed, so the ETA holds for gzip too.
  const raw: ReadStream = createReadStream(path, { highWaterMark: 64 * 1024 });
  const stream: Readable = isGzip(path) ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => stream.destroy(err));
  return { stream, fraction: () => (size > 0 ? Math.min(1, raw.bytesRead / size) : 1) };
}

/** Lines of a (possibly gzipped) text file with their 1-based numbers, streamed. */
export async function* readLines(stream: Readable, skip = 0): AsyncGenerator<{ line: number; text: string }> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (line <= skip) continue;
      yield { line, text };
    }
  } finally {
    rl.close();
    stream.destroy();
  }
}
