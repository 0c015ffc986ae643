import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { writeGgufLora } from '../../src/engine/adapter/gguf-lora.js';

let dir: string;
let cleanup: () => void;
let ws: string;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('finesec-learn-cli-'));
  ws = join(dir, 'ws');
  const base = await tinyModel();
  const adapter = join(dir, 'a.gguf');
  writeGgufLora(adapter, {
    architecture: 'llama',
    alpha: 8,
    pairs: [{ target: 'blk.0.attn_q.weight', rank: 2, inFeatures: 64, outFeatures: 64, a: new Float32Array(128).fill(0.01), b: new Float32Array(128) }],
  });
  expect((await runCli(['adapters', 'register', adapter, '--base', base, '--id', 'v1', '--promote', '--workspace', ws, '--quiet'])).code).toBe(0);
});
afterAll(() => cleanup());

async function learn(args: string[]): Promise<{ code: number; message: string }> {
  const r = await runCli(['learn', '--workspace', ws, '--json', ...args]);
  return { code: r.code, message: r.stdout.trim() ? (JSON.parse(r.stdout).error?.message as string) : '' };
}

describe('finesec learn: bad requests fail before any work, with one clear line', () => {
  it('needs a source of hard cases, something that measures improvement, known tasks, a registered adapter and existing runs', async () => {
    expect(await learn(['--adapter', 'v1'])).toEqual({ code: 2, message: expect.stringMatching(/give --from-eval RUN and\/or --from-feedback/) });
    expect(await learn(['--adapter', 'v1', '--from-feedback', '--holdout', '0'])).toEqual({
      code: 2,
      message: expect.stringMatching(/nothing would measure improvement: give --target DATASET:SPLIT or hold out hard cases/),
    });
    expect(await learn(['--adapter', 'v1', '--from-feedback', '--tasks', 'detect,guess'])).toEqual({ code: 2, message: expect.stringMatching(/unknown task guess/) });
    expect(await learn(['--adapter', 'v2', '--from-feedback'])).toEqual({ code: 2, message: expect.stringMatching(/no adapter "v2" in the registry \(have: v1\)/) });
    expect(await learn(['--adapter', 'v1', '--from-eval', 'eval-nope'])).toEqual({ code: 2, message: expect.stringMatching(/--from-eval eval-nope: no such run/) });
    expect(await learn(['--adapter', 'v1', '--from-feedback', '--replay', '1'])).toEqual({ code: 2, message: expect.stringMatching(/--replay expects a fraction in \[0, 1\)/) });
    expect(await learn(['--adapter', 'v1', '--from-feedback', '--suite', 'x:nope'])).toEqual({ code: 2, message: expect.stringMatching(/split must be one of/) });
    expect((await runCli(['learn', '--help'])).stdout).toMatch(/--from-eval RUN/);
  });

  it('stops cleanly, promoting nothing, when there is no feedback to learn from', async () => {
    const r = await runCli(['learn', '--workspace', ws, '--json', '--adapter', 'v1', '--from-feedback']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ promoted: 0, current: 'v1', rounds: [{ decision: 'stopped', reason: 'no new accepted feedback to learn from', candidate: null }] });
  });
});
