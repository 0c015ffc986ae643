/**
 * The continual-learning loop end to end, on a tiny model the project writes and the synthetic
 * corpus, with every stage real (reference teacher, distill, trainer, llama.cpp eval, registry):
 * - an adapter is trained on group A (integer CWEs; detect and report tasks, the report cut at
 *   train.seq_len) from mostly safe code, so it clears what it sees;
 * - its errors on group B (format-string and OS-command CWEs) are harvested from an eval of B's
 *   training split: the vulnerable B samples are false negatives;
 * - a test-set sample planted in the feedback is refused with its reason;
 * - one `finesec learn` round (re-teach, hard examples + 30% replay of A, warm-started update,
 *   gate) promotes a candidate whose F1 on B's test split (and on the held-out hard cases) rises by
 *   the margin, while A's test accuracy does not fall by more than the tolerance. Decoding is
 *   greedy and training single-threaded and seeded, so every run gives the same numbers;
 * - rollback restores the previous adapter: the same file bytes, the same registry row;
 * - a candidate that cannot clear the gate is kept as rejected with its numbers.
 * Targets are judged by F1 (B is mostly missed: accuracy hides that on balanced pairs), the
 * regression suite by accuracy. On a model this small the update moves the verdict towards
 * "vulnerable" on A's code as well (the summary prints the flagged shares); A's balanced pairs
 * keep its accuracy within the tolerance.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { openKb } from '../../src/kb/db.js';
import { renderLearnSummary } from '../../src/learn/summary.js';

const { dir, cleanup } = tempDir('finesec-learn-e2e-');
afterAll(cleanup);
const ws = join(dir, 'ws');

async function cli(args: string[], expected = 0): Promise<any> {
  const r = await runCli([...args, '--workspace', ws, '--json']);
  if (r.code !== expected) throw new Error(`finesec ${args.join(' ')}: exit ${r.code}, expected ${expected}\n${r.stdout}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : null;
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

// Group A: integer weaknesses. Group B: injection weaknesses (other templates, other shapes).
const GROUP_A = 'CWE-190,CWE-369';
const GROUP_B = 'CWE-134,CWE-78';

const config = `
train:
  lr: 0.01
  batch_tokens: 2048
  warmup: 3
  seq_len: 800
  lora: { rank: 8, alpha: 16, dropout: 0 }
learn:
  tasks: [detect, report]
  holdout: 0.2
  replay: 0.3
  max_steps: 60
  rounds: 1
  metric: f1
  margin: 0.1
  tolerance: 0.1
`;

describe('finesec learn end to end', () => {
  it('improves group B from its harvested errors without losing group A, refuses test data, rolls back exactly', async () => {
    const started = Date.now();
    const lap = (what: string): void => console.log(`[learn-e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${what}`);
    // A larger init scale than the default: LoRA cannot rescale a random model's output layer, and
    // at std 0.02 no answer token can get a confident probability.
    const base = await tinyModel({ embd: 128, ff: 256, initStd: 0.2, seed: 3 });
    await cli(['init']);
    writeFileSync(join(ws, 'finesec.yaml'), config);
    await cli(['synth', '--name', 'grpA', '--cwe', GROUP_A, '--count', '80', '--seed', '1']);
    await cli(['synth', '--name', 'grpB', '--cwe', GROUP_B, '--count', '80', '--seed', '2']);
    await cli(['split', 'grpA', '--ratios', '0.5,0,0.5']);
    await cli(['split', 'grpB', '--ratios', '0.5,0,0.5']);
    await cli(['teach', '--dataset', 'grpA', '--split', 'train']);
    // The first adapter learns from mostly safe code: 1 vulnerable per 4 safe samples.
    await cli(['distill', '--dataset', 'grpA', '--out', join(dir, 'a.jsonl'), '--tasks', 'detect,report', '--pos-ratio', '0.25']);
    const trained = await cli(['train', '--base', base, '--data', join(dir, 'a.jsonl'), '--out', join(dir, 'adA'), '--max-steps', '60', '--long', 'truncate']);
    lap(`first adapter: loss ${trained.firstLoss.toFixed(3)} -> ${trained.loss.toFixed(3)}`);
    const v1 = await cli(['adapters', 'register', trained.outputs.adapter, '--base', base, '--id', 'v1', '--promote', '--data', join(dir, 'a.jsonl')]);
    expect(v1.adapter).toMatchObject({ id: 'v1', status: 'promoted', parent_id: null });
    const v1File = join(ws, 'adapters', 'v1', 'adapter.gguf');
    const v1Sha = sha(v1File);
    const v1Row = (await cli(['adapters', 'show', 'v1'])) as Record<string, unknown>;

    // The errors of v1 on group B's training split.
    const harvest = await cli(['eval', '--suite', 'grpB:train', '--model', `${base}+${v1File}`, '--name', 'v1', '--max-tokens', '8']);
    lap(`harvest eval ${harvest.run_id}: accuracy ${harvest.models[0].accuracy}, f1 ${harvest.models[0].f1}`);

    // A test-set sample planted in the feedback is refused and never learned.
    const planted = (() => {
      const db = openKb(join(ws, 'kb.sqlite'));
      try {
        return (db.prepare("SELECT s.id FROM samples s JOIN datasets d ON d.id = s.dataset_id WHERE d.name = 'grpB' AND s.split = 'test' AND s.label = 1 ORDER BY s.id LIMIT 1").get() as { id: number }).id;
      } finally {
        db.close();
      }
    })();
    const refused = await cli(['feedback', 'add', '--sample', String(planted), '--kind', 'false_negative', '--note', 'planted test sample']);
    expect(refused.feedback.status).toBe('refused');
    expect(refused.feedback.reason).toMatch(new RegExp(`sample ${planted} is in the test split of dataset grpB`));

    const result = await cli([
      'learn', '--adapter', 'v1', '--from-eval', harvest.run_id, '--from-feedback',
      '--suite', 'grpA:test', '--target', 'grpB:test', '--regression-metric', 'accuracy', '--max-tokens', '8',
    ]);
    lap('learn done');
    const text = renderLearnSummary(result);
    console.log(text);
    const round = result.rounds[0];
    expect(round.decision).toBe('promoted');
    expect(text).toMatch(/grpB:test\s+target\s+f1\s+40\s+0\.\d{3}\s+0\.\d{3}/);
    expect(text).toMatch(/grpA:test\s+regression\s+accuracy\s+40\s+0\.\d{3}\s+0\.\d{3}.* ok/);
    expect(round.feedback.harvests[0].refused).toBe(0);
    expect(round.feedback.heldOut.length).toBeGreaterThan(0);
    expect([...round.feedback.trained, ...round.feedback.heldOut]).not.toContain(refused.feedback.id);
    const b = round.suites.find((s: any) => s.suite === 'grpB:test');
    const a = round.suites.find((s: any) => s.suite === 'grpA:test');
    expect(b.after - (b.before ?? 0)).toBeGreaterThanOrEqual(0.1);
    expect((a.before ?? 0) - (a.after ?? 0)).toBeLessThanOrEqual(0.1);
    const v2 = result.current;
    expect(v2).not.toBe('v1');

    // Rollback: v1 is current again, byte for byte, with the registry row it had.
    const rolled = await cli(['adapters', 'rollback', '--reason', 'test']);
    expect(rolled.to.id).toBe('v1');
    expect(rolled.from).toMatchObject({ id: v2, status: 'rejected' });
    expect(sha(v1File)).toBe(v1Sha);
    const after = (await cli(['adapters', 'show', 'current'])) as Record<string, unknown>;
    expect(after.id).toBe('v1');
    for (const key of ['status', 'sha256', 'path', 'base_sha256', 'parent_id', 'data_sha256', 'metrics', 'note']) expect(after[key]).toEqual(v1Row[key]);

    // A candidate that cannot clear the gate is kept as rejected with its numbers; v1 stays current.
    const rejected = await cli(
      ['learn', '--adapter', 'current', '--from-eval', harvest.run_id, '--suite', 'grpA:test', '--target', 'grpB:test', '--max-steps', '5', '--margin', '0.95', '--max-tokens', '8'],
      1,
    );
    const r2 = rejected.rounds[0];
    expect(r2.decision).toBe('rejected');
    expect(r2.reason).toMatch(/less than the margin 0\.95/);
    const shown = await cli(['adapters', 'show', r2.candidate]);
    expect(shown).toMatchObject({ status: 'rejected', parent_id: 'v1', current: false });
    expect(shown.metrics.gate.target.after).toBeTypeOf('number');
    expect(shown.metrics.rejected.reason).toBe(r2.reason);
    expect((await cli(['adapters', 'show', 'current'])).id).toBe('v1');
    lap('done');
  }, 240_000);
});
