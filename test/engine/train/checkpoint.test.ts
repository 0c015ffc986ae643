import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointTempPath, CHECKPOINT_VERSION, looksLikeCheckpoint, readCheckpoint, readCheckpointHeader, writeCheckpoint, type CheckpointHeader,
} from '../../../src/engine/train/checkpoint.js';
import { FinesecError, InputError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/cli.js';

const tmp = tempDir('finesec-ckpt-');
afterAll(() => tmp.cleanup());

function header(step: number): Omit<CheckpointHeader, 'arrays'> {
  return {
    step, totalSteps: 10, nextMicroBatch: step * 2, epoch: 0, indexInEpoch: step * 2, seed: 5,
    configHash: 'abc', config: { settings: { lr: 0.001 } }, loss: 1.5, evalLoss: null,
  };
}

function save(path: string, step: number): void {
  writeCheckpoint(path, header(step), [
    ['params', Float32Array.from([step, -0, 1.5e-39, NaN])],
    ['adam.m', Float32Array.from([0.25])],
    ['adam.v', new Float32Array(0)],
  ]);
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('no error');
}

describe('training checkpoints', () => {
  it('round-trip every bit of the arrays and the header', () => {
    const path = join(tmp.dir, 'a.bin');
    save(path, 3);
    const c = readCheckpoint(path);
    expect(c.header).toEqual({ ...header(3), arrays: [{ name: 'params', length: 4 }, { name: 'adam.m', length: 1 }, { name: 'adam.v', length: 0 }] });
    const p = c.arrays.get('params')!;
    expect(new Uint32Array(p.buffer)).toEqual(new Uint32Array(Float32Array.from([3, -0, 1.5e-39, NaN]).buffer));
    expect(Array.from(c.arrays.get('adam.m')!)).toEqual([0.25]);
    expect(readCheckpointHeader(path).step).toBe(3);
    expect(looksLikeCheckpoint(path)).toBe(true);
    expect(existsSync(checkpointTempPath(path))).toBe(false);
  });

  it('refuses a file with another magic number, with a hint to regenerate', () => {
    const path = join(tmp.dir, 'not.bin');
    writeFileSync(path, Buffer.alloc(100, 7));
    const err = errorOf(() => readCheckpoint(path));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(`${path}: not a finesec checkpoint (bad magic number); train again without --resume to start a new checkpoint`);
    expect(looksLikeCheckpoint(path)).toBe(false);
  });

  it('refuses another format version, naming both versions and what to do', () => {
    const path = join(tmp.dir, 'v.bin');
    save(path, 1);
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(CHECKPOINT_VERSION + 98, 8);
    writeFileSync(path, bytes);
    for (const read of [readCheckpoint, readCheckpointHeader]) {
      const err = errorOf(() => read(path));
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toContain(`checkpoint format version ${CHECKPOINT_VERSION + 98}, but this finesec reads version ${CHECKPOINT_VERSION}`);
      expect(err.message).toContain('train again without --resume');
    }
  });

  it('refuses a truncated or edited file (checksum)', () => {
    const path = join(tmp.dir, 't.bin');
    save(path, 1);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 5));
    expect(errorOf(() => readCheckpoint(path)).message).toMatch(/damaged \(checksum mismatch/);
    bytes[bytes.length - 40] ^= 1;
    writeFileSync(path, bytes);
    expect(errorOf(() => readCheckpoint(path)).message).toMatch(/damaged/);
  });

  it('keeps the previous checkpoint when a write fails (disk full)', () => {
    const path = join(tmp.dir, 'full.bin');
    save(path, 4);
    const before = readFileSync(path);
    // Every write to /dev/full fails with ENOSPC, like a full disk.
    symlinkSync('/dev/full', checkpointTempPath(path));
    const err = errorOf(() => save(path, 5));
    expect(err).toBeInstanceOf(FinesecError);
    expect(err.message).toMatch(/^cannot write checkpoint .*full\.bin \(ENOSPC.*\); the previous checkpoint is unchanged$/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readCheckpoint(path).header.step).toBe(4);
    expect(existsSync(checkpointTempPath(path))).toBe(false);
    save(path, 6);
    expect(readCheckpoint(path).header.step).toBe(6);
  });

  it('keeps the previous checkpoint when the temporary file cannot be created', () => {
    const path = join(tmp.dir, 'dir.bin');
    save(path, 2);
    mkdirSync(checkpointTempPath(path));
    expect(errorOf(() => save(path, 3)).message).toMatch(/cannot write checkpoint .*EISDIR.*previous checkpoint is unchanged/);
    expect(readCheckpoint(path).header.step).toBe(2);
    expect(lstatSync(checkpointTempPath(path)).isDirectory()).toBe(true);
    const fresh = join(tmp.dir, 'nodir', 'x.bin');
    expect(errorOf(() => save(fresh, 1)).message).toMatch(/ENOENT.*no earlier checkpoint exists/);
  });
});
