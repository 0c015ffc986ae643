/**
 * npm run nano:pretrain [-- --max-steps N ...]: builds models/nano/nano-q8_0.gguf and CARD.md.
 * Defaults are the long run (hours on one thread); pass a small --max-steps for a short one.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runPretrain } from '../../src/nano/pretrain.js';
import { Logger } from '../../src/util/log.js';

const root = resolve(import.meta.dirname, '../..');
const defaults = {
  out: join(root, 'models/nano'), work: join(tmpdir(), 'finesec-nano-work'), juliet: resolve(root, '../shared/datasets/juliet/juliet_c_cpp_1.3_singlefile.jsonl.gz'),
  'synth-count': '12000', 'synth-seed': '7000001', 'juliet-limit': '20000',
  layers: '4', embd: '256', heads: '4', 'kv-heads': '2', ff: '768', ctx: '1024', 'vocab-size': '4096',
  'max-steps': '20000', lr: '1e-3', warmup: '50', 'batch-tokens': '4096', 'seq-len': '512', threads: '1', seed: '1',
};
const { values } = parseArgs({
  options: Object.fromEntries([...Object.keys(defaults).map((k) => [k, { type: 'string' as const }]), ['short', { type: 'boolean' as const }]]),
});
const v = (k: keyof typeof defaults): string => (values[k] as string | undefined) ?? defaults[k];
const n = (k: keyof typeof defaults): number => {
  const x = Number(v(k));
  if (!Number.isFinite(x)) throw new Error(`nano:pretrain: --${k} must be a number, got "${v(k)}"`);
  return x;
};
const given = Object.entries(values).filter(([, x]) => x !== undefined).map(([k, x]) => (x === true ? `--${k}` : `--${k} ${x}`));
const juliet = v('juliet');
const result = await runPretrain(
  {
    out: v('out'), work: v('work'), synthCount: n('synth-count'), synthSeed: n('synth-seed'),
    julietPath: existsSync(juliet) ? juliet : undefined, julietLimit: n('juliet-limit'),
    layers: n('layers'), embd: n('embd'), heads: n('heads'), kvHeads: n('kv-heads'), ff: n('ff'), ctx: n('ctx'), vocabSize: n('vocab-size'),
    maxSteps: n('max-steps'), lr: n('lr'), warmup: n('warmup'), batchTokens: n('batch-tokens'), seqLen: n('seq-len'), threads: n('threads'), seed: n('seed'),
    shortRun: Boolean(values.short),
    command: `npm run nano:pretrain${given.length ? ` -- ${given.join(' ')}` : ''}`,
  },
  new Logger(),
);
console.log(`nano: wrote ${result.model} and ${result.card}`);
