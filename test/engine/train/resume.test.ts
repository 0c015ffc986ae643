/**
 * Exact resume: a run killed (SIGKILL, a real child process) after it saved a checkpoint, then
 * resumed, ends with the same adapter file, bit for bit, as a run that was never interrupted
 * (one thread, same seed). Dropout, gradient accumulation, several epochs and a warmup+cosine
 * schedule are on, so the RNG, the data position and the optimizer state all have to be restored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpoint } from '../../../src/engine/train/checkpoint.js';
import { runCli, spawnCli, tempDir } from '../../helpers/cli.js';
import { tinyModel } from '../../helpers/tiny-model.js';
import { writeExamples } from './fixtures.js';

const tmp = tempDir('finesec-resume-');
afterAll(() => tmp.cleanup());

let base: string;
let data: string;

beforeAll(async () => {
  base = await tinyModel({ type: 'q8_0', initStd: 0.2, embd: 128, ff: 256, seed: 6 });
  data = writeExamples(join(tmp.dir, 'train.jsonl'), 0, 20);
});

function args(out: string): string[] {
  return [
    'train', '--workspace', join(tmp.dir, 'ws'), '--base', base, '--data', data, '--out', out, '--threads', '1', '--seed', '11',
    '--max-steps', '24', '--accum', '2', '--batch-tokens', '192', '--lr', '5e-3', '--warmup', '4', '--schedule', 'cosine',
    '--rank', '4', '--alpha', '8', '--dropout', '0.1', '--save-every', '4',
  ];
}

describe('--resume after SIGKILL', () => {
  it('ends with a bit-identical adapter to an uninterrupted run', async () => {
    const straight = join(tmp.dir, 'straight');
    expect((await runCli([...args(straight), '--quiet'])).code).toBe(0);

    const interrupted = join(tmp.dir, 'interrupted');
    const child = await spawnCli(args(interrupted), { killAfter: (stderr) => stderr.includes('saved checkpoint at step 8 ') });
    expect(child.signal).toBe('SIGKILL');
    expect(existsSync(join(interrupted, 'adapter.gguf'))).toBe(false);
    const saved = readCheckpoint(join(interrupted, 'checkpoint.bin')).header;
    expect(saved.step).toBeGreaterThanOrEqual(8);
    expect(saved.step).toBeLessThan(24);
    expect(saved.nextMicroBatch).toBe(saved.step * 2);

    const resumed = await runCli([...args(interrupted), '--resume', '--json', '--quiet']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ resumedFrom: saved.step, steps: 24 });

    const a = readFileSync(join(straight, 'adapter.gguf'));
    const b = readFileSync(join(interrupted, 'adapter.gguf'));
    expect(b.equals(a)).toBe(true);
    // And the final optimizer state too.
    const ca = readCheckpoint(join(straight, 'checkpoint.bin'));
    const cb = readCheckpoint(join(interrupted, 'checkpoint.bin'));
    for (const name of ['params', 'adam.m', 'adam.v']) {
      expect(Buffer.from(cb.arrays.get(name)!.buffer).equals(Buffer.from(ca.arrays.get(name)!.buffer))).toBe(true);
    }
    // About 10 s on the native kernels; minutes on the TypeScript fallback (FINESEC_KERNELS=ts).
  }, 600_000);
});
