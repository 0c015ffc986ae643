/**
 * `finesec train` end to end on tiny models the project writes: it learns for real (held-out
 * loss falls, and llama.cpp with the exported adapter greedily reproduces trained answers), and
 * every bad input gets a clear error or a recorded rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openKb } from '../../../src/kb/db.js';
import { LocalStudent } from '../../../src/runtime/local-student.js';
import { readCheckpoint } from '../../../src/engine/train/checkpoint.js';
import { readGguf } from '../../../src/engine/gguf/reader.js';
import { loadModel } from '../../../src/engine/model/weights.js';
import { runCli, tempDir } from '../../helpers/cli.js';
import { tinyModel } from '../../helpers/tiny-model.js';
import { answer, example, prompt, writeExamples } from './fixtures.js';

const tmp = tempDir('finesec-train-');
afterAll(() => tmp.cleanup());

let base: string;
let trainFile: string;
let evalFile: string;
const ws = join(tmp.dir, 'ws');

beforeAll(async () => {
  // A wider init than the default keeps the output logits able to move far (a tiny random base
  // with std 0.02 cannot express confident predictions through its frozen output layer).
  base = await tinyModel({ type: 'q8_0', initStd: 0.2, seed: 4 });
  trainFile = writeExamples(join(tmp.dir, 'train.jsonl'), 0, 18);
  evalFile = writeExamples(join(tmp.dir, 'eval.jsonl'), 100, 106);
});

/** About 5 s on the native kernels; minutes on the TypeScript fallback (FINESEC_KERNELS=ts). */
const SLOW = 600_000;
const common = ['--rank', '8', '--alpha', '16', '--dropout', '0', '--batch-tokens', '512', '--warmup', '5', '--clip', '0'];

async function trainJson(args: string[]): Promise<{ code: number; json: Record<string, any> }> {
  const r = await runCli(['train', '--workspace', ws, '--json', '--quiet', ...args]);
  return { code: r.code, json: JSON.parse(r.stdout) as Record<string, any> };
}

describe('finesec train', () => {
  it('learns: held-out loss falls and llama.cpp with the adapter reproduces trained answers', async () => {
    const out = join(tmp.dir, 'learn');
    const { code, json } = await trainJson([
      '--base', base, '--data', trainFile, '--eval-data', evalFile, '--out', out, '--max-steps', '60', '--lr', '2e-2',
      '--eval-every', '20', '--save-every', '20', '--export-peft', ...common,
    ]);
    expect(code).toBe(0);
    console.log(`learning: train loss ${json.firstLoss.toFixed(3)} -> ${json.loss.toFixed(3)}, held-out ${json.initialEvalLoss.toFixed(3)} -> ${json.evalLoss.toFixed(3)}`);
    expect(json.steps).toBe(60);
    expect(json.initialEvalLoss).toBeGreaterThan(5);
    expect(json.evalLoss).toBeLessThan(0.1 * json.initialEvalLoss);
    expect(json.chatFormat).toBe('ChatML');
    for (const f of ['adapter.gguf', 'checkpoint.bin', 'peft/adapter_config.json', 'peft/adapter_model.safetensors']) expect(existsSync(join(out, f))).toBe(true);

    // Metrics: one line per step (plus evaluations), in the run's folder; the run is recorded.
    const metrics = readFileSync(join(ws, 'runs', json.run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.loss !== undefined).map((m) => m.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(metrics.filter((m) => m.eval_loss !== undefined).map((m) => m.step)).toEqual([0, 20, 40, 60]);
    expect(metrics[1]).toMatchObject({ step: 1, lr: 4e-3 });
    const db = openKb(join(ws, 'kb.sqlite'));
    const run = db.prepare('SELECT stage, status FROM runs WHERE id = ?').get(json.run);
    db.close();
    expect(run).toEqual({ stage: 'train', status: 'done' });

    const student = await LocalStudent.load({ model: base, adapters: [{ path: join(out, 'adapter.gguf') }], contextSize: 512 });
    try {
      for (const i of [0, 1, 2]) {
        const r = await student.complete({ messages: prompt(i), maxTokens: 40 });
        expect(r.text).toBe(answer(i));
        expect(r.finishReason).toBe('stop');
      }
    } finally {
      await student.close();
    }
    const untrained = await LocalStudent.load({ model: base, contextSize: 512 });
    try {
      expect((await untrained.complete({ messages: prompt(0), maxTokens: 20 })).text).not.toBe(answer(0));
    } finally {
      await untrained.close();
    }
  }, SLOW);

  it('--init-adapter warm-starts from an adapter: held-out loss starts where that adapter ended, with its shape', async () => {
    const learned = join(tmp.dir, 'learn', 'adapter.gguf');
    expect(existsSync(learned)).toBe(true);
    const fresh = await trainJson(['--base', base, '--data', trainFile, '--eval-data', evalFile, '--out', join(tmp.dir, 'fresh'), '--max-steps', '1', '--lr', '1e-9', ...common]);
    const warm = await trainJson([
      '--base', base, '--data', trainFile, '--eval-data', evalFile, '--out', join(tmp.dir, 'warm'), '--max-steps', '1', '--lr', '1e-9',
      ...common, '--rank', '4', '--init-adapter', learned,
    ]);
    expect(fresh.code).toBe(0);
    expect(warm.code).toBe(0);
    // The learned adapter ended far below the fresh start (see the test above); a warm start begins there.
    expect(warm.json.initialEvalLoss).toBeLessThan(0.2 * fresh.json.initialEvalLoss);
    // Its rank (8) wins over --rank 4: as many trainable parameters as a fresh rank-8 adapter.
    expect(warm.json.trainableParameters).toBe(fresh.json.trainableParameters);
    const refused = await runCli(['train', '--workspace', ws, '--quiet', '--base', base, '--data', trainFile, '--out', join(tmp.dir, 'warm-full'), '--full', '--init-adapter', learned]);
    expect(refused.code).toBe(2);
  }, SLOW);

  it('reports malformed example lines with their line numbers, records them, and trains on the rest', async () => {
    const data = join(tmp.dir, 'mixed.jsonl');
    writeFileSync(data, [
      JSON.stringify(example(0)),
      '{not json',
      '',
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      JSON.stringify(example(1)),
      JSON.stringify({ messages: [{ role: 'assistant', content: 'a' }, { role: 'user', content: 'b' }] }),
    ].join('\n'));
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (stderr.push(String(s)), true)) as typeof process.stderr.write;
    let r;
    try {
      r = await runCli(['train', '--workspace', ws, '--base', base, '--data', data, '--out', join(tmp.dir, 'mixed'), '--max-steps', '2', ...common]);
    } finally {
      process.stderr.write = write;
    }
    expect(r.code).toBe(0);
    const text = stderr.join('');
    expect(text).toContain(`${data}: 3 malformed example line(s) skipped`);
    expect(text).toMatch(new RegExp(`${data}:2: not valid JSON`));
    expect(text).toContain(`${data}:4: messages: a conversation needs a user message and an assistant answer`);
    expect(text).toContain(`${data}:6: messages: the first message after the system message must be from the user`);
    expect(text).toContain('2 examples');
    const db = openKb(join(ws, 'kb.sqlite'));
    const rows = db.prepare("SELECT line FROM rejections WHERE stage = 'train' AND source = ? ORDER BY line").all(data);
    db.close();
    expect(rows).toEqual([{ line: 2 }, { line: 4 }, { line: 6 }]);
  });

  it('refuses an empty dataset, and one whose examples all exceed --seq-len', async () => {
    const empty = join(tmp.dir, 'empty.jsonl');
    writeFileSync(empty, '\n\n');
    const a = await trainJson(['--base', base, '--data', empty, '--out', join(tmp.dir, 'empty')]);
    expect(a.code).toBe(2);
    expect(a.json.error.message).toBe(`${empty}: no training examples (0 non-empty line(s)); expected chat JSONL, one {"messages": [...]} per line`);
    const b = await trainJson(['--base', base, '--data', trainFile, '--out', join(tmp.dir, 'short'), '--seq-len', '8']);
    expect(b.code).toBe(2);
    expect(b.json.error.message).toBe(`${trainFile}: none of the 18 training examples fits --seq-len 8 (use a larger --seq-len or --long truncate)`);
    const notModel = await trainJson(['--base', trainFile, '--data', trainFile, '--out', join(tmp.dir, 'not-model')]);
    expect(notModel.code).toBe(2);
    expect(notModel.json.error.message).toMatch(new RegExp(`^${trainFile}: .*GGUF`));
  });

  it('stops on a NaN loss, names the step, and keeps the last good checkpoint', async () => {
    const out = join(tmp.dir, 'nan');
    // A learning rate so large that the weights overflow a few steps in (warmup delays it).
    const { code, json } = await trainJson([
      '--base', base, '--data', trainFile, '--out', out, '--max-steps', '12', '--lr', '3e18', '--warmup', '12',
      '--save-every', '1', '--rank', '8', '--alpha', '16', '--dropout', '0', '--batch-tokens', '256', '--clip', '0',
    ]);
    expect(code).toBe(2);
    const m = /^training diverged at step (\d+): the loss is NaN; stopped before applying it, the last good checkpoint is step (\d+) in (.*) \(lower --lr or set --clip\)$/.exec(json.error.message);
    expect(m, json.error.message).not.toBeNull();
    const [step, kept] = [Number(m![1]), Number(m![2])];
    expect(step).toBeGreaterThan(2);
    // Checkpoint step - 1 was never written: its weights are the ones that gave NaN.
    expect(kept).toBe(step - 2);
    const ckpt = readCheckpoint(join(out, 'checkpoint.bin'));
    expect(ckpt.header.step).toBe(kept);
    expect(ckpt.arrays.get('params')!.every((x) => Number.isFinite(x))).toBe(true);
    expect(existsSync(join(out, 'adapter.gguf'))).toBe(false);
  });

  it('refuses to resume with different settings or without a checkpoint, and to overwrite one', async () => {
    const out = join(tmp.dir, 'resume-check');
    const args = ['--base', base, '--data', trainFile, '--out', out, '--max-steps', '3', ...common];
    expect((await trainJson(['--resume', ...args])).json.error.message).toBe(
      `train: --resume, but there is no checkpoint at ${join(out, 'checkpoint.bin')} (train without --resume to start)`,
    );
    expect((await trainJson(args)).code).toBe(0);
    expect((await trainJson(args)).json.error.message).toBe(`train: ${join(out, 'checkpoint.bin')} exists: pass --resume to continue that run, or choose another --out`);
    const changed = await trainJson(['--resume', ...args, '--lr', '0.5', '--rank', '4']);
    expect(changed.code).toBe(2);
    expect(changed.json.error.message).toBe(
      `${join(out, 'checkpoint.bin')}: checkpoint was written by a different run: --rank 4 (checkpoint: 8); --lr 0.5 (checkpoint: 0.0002). ` +
        'Resume with the same settings, or train without --resume into another --out',
    );
    const other = await tinyModel({ type: 'q8_0', initStd: 0.2, seed: 5 });
    const wrongBase = await trainJson(['--resume', ...args.map((x) => (x === base ? other : x))]);
    expect(wrongBase.json.error.message).toContain('--base is a different model file (wrong base model?)');
    // Settings not given on the command line come from the checkpoint: a finished run resumes as done.
    const again = await trainJson(['--resume', '--base', base, '--data', trainFile, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ steps: 3, resumedFrom: 3 });
  });

  it('fails cleanly when the checkpoint cannot be written', async () => {
    const out = join(tmp.dir, 'unwritable');
    mkdirSync(join(out, 'checkpoint.bin.tmp'), { recursive: true });
    const { code, json } = await trainJson(['--base', base, '--data', trainFile, '--out', out, '--max-steps', '2', ...common]);
    expect(code).toBe(2);
    expect(json.error.message).toMatch(/^cannot write checkpoint .*checkpoint\.bin \(EISDIR.*\); no earlier checkpoint exists$/);
  });

  it('--full trains every weight and writes a whole model llama.cpp loads', async () => {
    const small = await tinyModel({ type: 'f32', initStd: 0.2, seed: 4 });
    const out = join(tmp.dir, 'full');
    const { code, json } = await trainJson(['--base', small, '--data', trainFile, '--out', out, '--max-steps', '40', '--lr', '3e-3', '--full', ...common]);
    expect(code).toBe(0);
    expect(json.mode).toBe('full');
    expect(json.loss).toBeLessThan(0.5 * json.firstLoss);
    const model = loadModel(join(out, 'model.gguf'), { trainable: true });
    expect(json.trainableParameters).toBe(model.weights.f32.length);
    expect(readGguf(join(out, 'model.gguf')).tensors.map((t) => t.name)).toEqual(readGguf(small).tensors.map((t) => t.name));
    const student = await LocalStudent.load({ model: join(out, 'model.gguf'), contextSize: 512 });
    try {
      const r = await student.complete({ messages: prompt(0), maxTokens: 30 });
      expect(r.text.length).toBeGreaterThan(0);
    } finally {
      await student.close();
    }
  });
});
