/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped.
 *
 *   bytes 0..7   magic "FSECKPT\n"
 *   u32 LE       format version
 *   u32 LE       header length H
 *   H bytes      header (UTF-8 JSON: step, data position, seed, config and its hash, array table)
 *   padding      zeros up to a multiple of 4
 *   arrays       f32 LE, in the order of header.arrays (trained parameters, AdamW m and v)
 *   32 bytes     SHA-256 of everything before it (a torn or edited file is refused)
 *
 * Written to PATH.tmp, flushed, then renamed over PATH: a crash or a failed write (disk full,
 * unwritable folder) leaves the previous checkpoint as it was.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomic, type Put } from '../../util/atomic-write.js';
import { createHash } from 'node:crypto';
import { FinesecError, InputError, errorMessage } from '../../util/errors.js';

export const CHECKPOINT_MAGIC = 'FSECKPT\n';
export const CHECKPOINT_VERSION = 1;
const REGENERATE_HINT = 'train again without --resume to start a new checkpoint';

export interface ArrayEntry {
  name: string;
  length: number;
}

export interface CheckpointHeader {
  /** Optimizer updates completed. */
  step: number;
  totalSteps: number;
  /** Index of the next micro-batch in the data stream (the data order position). */
  nextMicroBatch: number;
  /** Epoch and position within it of that micro-batch (for people; nextMicroBatch is authoritative). */
  epoch: number;
  indexInEpoch: number;
  /** Seed of every random choice: LoRA init, shuffles, dropout (derived per micro-batch). */
  seed: number;
  /** Hash of `config`; a resume with a different one is refused. */
  configHash: string;
  config: Record<string, unknown>;
  /** Mean loss of the last step, and of the last evaluation. */
  loss: number | null;
  evalLoss: number | null;
  arrays: ArrayEntry[];
}

export interface Checkpoint {
  path: string;
  header: CheckpointHeader;
  arrays: Map<string, Float32Array>;
}

export function checkpointTempPath(path: string): string {
  return `${path}.tmp`;
}

/** Writes atomically; on failure the previous file at `path` is untouched and the error says so. */
export function writeCheckpoint(path: string, header: Omit<CheckpointHeader, 'arrays'>, arrays: ReadonlyArray<readonly [string, Float32Array]>): void {
  const full: CheckpointHeader = { ...header, arrays: arrays.map(([name, a]) => ({ name, length: a.length })) };
  const json = Buffer.from(JSON.stringify(full), 'utf8');
  const prefix = Buffer.alloc(16);
  prefix.write(CHECKPOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  const padding = Buffer.alloc((4 - ((16 + json.length) % 4)) % 4);

  const hash = createHash('sha256');
  try {
    writeFileAtomic(
      path,
      (put) => {
        const hashed: Put = (bytes) => {
          hash.update(bytes);
          put(bytes);
        };
        hashed(prefix);
        hashed(json);
        hashed(padding);
        for (const [, a] of arrays) hashed(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        put(hash.digest());
      },
      { tempPath: checkpointTempPath(path) },
    );
  } catch (err) {
    const previous = existsSync(path) ? 'the previous checkpoint is unchanged' : 'no earlier checkpoint exists';
    throw new FinesecError(`cannot write checkpoint ${path} (${errorMessage(err)}); ${previous}`, { kind: 'checkpoint', cause: err });
  }
}

/** Magic number and format version (the first 16 bytes; empty when the file is too short). */
function checkPrefix(path: string, prefix: Buffer): void {
  if (prefix.length < 16 || prefix.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) {
    throw new InputError(`${path}: not a finesec checkpoint (bad magic number); ${REGENERATE_HINT}`);
  }
  const version = prefix.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) {
    throw new InputError(
      `${path}: checkpoint format version ${version}, but this finesec reads version ${CHECKPOINT_VERSION}; ` +
        `resume with the finesec that wrote it, or ${REGENERATE_HINT}`,
    );
  }
}

export function readCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read checkpoint (${errorMessage(err)})`, err);
  }
  checkPrefix(path, bytes.length >= 16 + 32 ? bytes.subarray(0, 16) : Buffer.alloc(0));
  const body = bytes.subarray(0, bytes.length - 32);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(bytes.subarray(bytes.length - 32))) {
    throw new InputError(`${path}: checkpoint is damaged (checksum mismatch: truncated or modified); ${REGENERATE_HINT}`);
  }
  const headerLength = bytes.readUInt32LE(12);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 16, 16 + headerLength)) as CheckpointHeader;
  } catch (err) {
    throw new InputError(`${path}: checkpoint header is not valid JSON; ${REGENERATE_HINT}`, err);
  }
  let offset = 16 + headerLength;
  offset += (4 - (offset % 4)) % 4;
  const arrays = new Map<string, Float32Array>();
  for (const entry of header.arrays) {
    const end = offset + entry.length * 4;
    if (end > body.length) throw new InputError(`${path}: checkpoint array ${entry.name} runs past the end of the file; ${REGENERATE_HINT}`);
    const copy = new Float32Array(entry.length);
    new Uint8Array(copy.buffer).set(body.subarray(offset, end));
    arrays.set(entry.name, copy);
    offset = end;
  }
  if (offset !== body.length) throw new InputError(`${path}: checkpoint has ${body.length - offset} unexpected trailing bytes; ${REGENERATE_HINT}`);
  return { path, header, arrays };
}

/** Only the header (no arrays read, no checksum verified): what a run was, for defaults and listings. */
export function readCheckpointHeader(path: string): CheckpointHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(`${path}: cannot read checkpoint (${errorMessage(err)})`, err);
  }
  try {
    const prefix = Buffer.alloc(16);
    checkPrefix(path, readSync(fd, prefix, 0, 16, 0) === 16 ? prefix : Buffer.alloc(0));
    const json = Buffer.alloc(prefix.readUInt32LE(12));
    if (readSync(fd, json, 0, json.length, 16) !== json.length) throw new InputError(`${path}: checkpoint header is truncated; ${REGENERATE_HINT}`);
    try {
      return JSON.parse(json.toString('utf8')) as CheckpointHeader;
    } catch (err) {
      throw new InputError(`${path}: checkpoint header is not valid JSON; ${REGENERATE_HINT}`, err);
    }
  } finally {
    closeSync(fd);
  }
}

/** Whether a file starts with the checkpoint magic (used to tell checkpoints from GGUF adapters). */
export function looksLikeCheckpoint(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(8);
      const n = readSync(fd, head, 0, 8, 0);
      return n === 8 && head.toString('latin1') === CHECKPOINT_MAGIC;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
