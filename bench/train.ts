/**
 * Training benchmark: tokens/s of one full LoRA training step (forward, masked cross-entropy,
 * backward, clipping, AdamW) on a ~50M-parameter llama, sequence length 512, rank 16 on all seven
 * projections, by the finesec engine (Q8_0 base) and by an equivalent PyTorch implementation
 * (Debian's torch through /usr/bin/python3, f32 base: torch 1.13 has no int8 CPU matmul), at 1
 * and 2 threads, with the peak memory (RSS) of each. Each measurement runs in its own process.
 *
 *   npm run bench:train    (FINESEC_BENCH_STEPS, FINESEC_BENCH_TORCH_STEPS: timed steps, default 3; torch stops after 20 s)
 *
 * Model (helper-6's runtime-bench config): embd 512, 12 layers, 8 heads (8 kv), ff 1536,
 * vocabulary 8192, untied output: 2 x 8192 x 512 + 12 x (4 x 512^2 + 3 x 512 x 1536) = 49.3M.
 * The last line is exactly: RESULT train ratio=<finesec/pytorch, 1 thread> finesec_tok_s=<n> pytorch_tok_s=<n>
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHAPE = { layers: 12, embd: 512, heads: 8, kv_heads: 8, ff: 1536, vocab: 8192, seq: 512, rank: 16, alpha: 32 };
const THREADS = [1, 2];

interface Measurement {
  threads: number;
  step_seconds: number[];
  tokens_per_s: number;
  peak_rss_mb: number;
  trainable: number;
  [key: string]: unknown;
}

if (process.argv[2] === '--worker') {
  await worker(JSON.parse(process.argv[3]!) as { model: string; threads: number; warmup: number; steps: number });
} else {
  await main();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'finesec-bench-train-'));
  try {
    const modelPath = join(dir, 'bench-50m-q8_0.gguf');
    const { run } = await import('../src/cli/main.js');
    let initOut = '';
    const code = await run(
      [
        'model', 'init', '--quiet', '--json', '--arch', 'llama', '--layers', String(SHAPE.layers), '--embd', String(SHAPE.embd),
        '--heads', String(SHAPE.heads), '--kv-heads', String(SHAPE.kv_heads), '--ff', String(SHAPE.ff), '--vocab-size', String(SHAPE.vocab),
        '--ctx', '2048', '--type', 'q8_0', '--seed', '1', '--tokenizer-samples', '8000', '--out', modelPath,
      ],
      (s) => (initOut += s),
    );
    if (code !== 0) throw new Error(`model init failed with exit ${code}`);
    const info = JSON.parse(initOut) as { parameters: number; vocabSize: number };
    console.log(`model: llama, ${(info.parameters / 1e6).toFixed(1)}M parameters (vocabulary ${info.vocabSize}), sequence ${SHAPE.seq}, LoRA rank ${SHAPE.rank} on q,k,v,o,gate,up,down`);
    const steps = Number(process.env.FINESEC_BENCH_STEPS ?? 3);
    const torchSteps = Number(process.env.FINESEC_BENCH_TORCH_STEPS ?? 3);

    const rows: Array<{ threads: number; finesec: Measurement; torch: Measurement }> = [];
    for (const threads of THREADS) {
      const finesec = runFinesec(modelPath, threads, steps);
      console.log(`finesec  ${threads} thread(s): ${finesec.tokens_per_s.toFixed(1)} tok/s (steps ${finesec.step_seconds.map((s) => s.toFixed(2)).join(', ')} s), peak RSS ${finesec.peak_rss_mb.toFixed(0)} MB, ${String(finesec.kernels)}`);
      const torch = runTorch({ ...SHAPE, vocab: info.vocabSize }, threads, torchSteps);
      console.log(`pytorch  ${threads} thread(s): ${torch.tokens_per_s.toFixed(1)} tok/s (steps ${torch.step_seconds.map((s) => s.toFixed(2)).join(', ')} s), peak RSS ${torch.peak_rss_mb.toFixed(0)} MB, torch ${String(torch.torch)}, BLAS ${String(torch.blas)}`);
      if (finesec.trainable !== torch.trainable) throw new Error(`trainable parameters differ: finesec ${finesec.trainable}, pytorch ${torch.trainable}`);
      rows.push({ threads, finesec, torch });
    }
    console.log('');
    console.log('threads  finesec tok/s  pytorch tok/s  ratio   finesec RSS  pytorch RSS');
    for (const r of rows) {
      console.log(
        `${String(r.threads).padEnd(9)}${r.finesec.tokens_per_s.toFixed(1).padStart(13)}  ${r.torch.tokens_per_s.toFixed(1).padStart(13)}  ` +
          `${(r.finesec.tokens_per_s / r.torch.tokens_per_s).toFixed(2).padStart(5)}  ${r.finesec.peak_rss_mb.toFixed(0).padStart(8)} MB  ${r.torch.peak_rss_mb.toFixed(0).padStart(8)} MB`,
      );
    }
    console.log(`trainable LoRA parameters: ${rows[0]!.finesec.trainable}`);
    const one = rows[0]!;
    console.log(`RESULT train ratio=${(one.finesec.tokens_per_s / one.torch.tokens_per_s).toFixed(3)} finesec_tok_s=${one.finesec.tokens_per_s.toFixed(1)} pytorch_tok_s=${one.torch.tokens_per_s.toFixed(1)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runFinesec(model: string, threads: number, steps: number): Measurement {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', JSON.stringify({ model, threads, warmup: 1, steps })], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`finesec worker failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

function runTorch(shape: typeof SHAPE, threads: number, steps: number): Measurement {
  const script = fileURLToPath(new URL('./torch_train.py', import.meta.url));
  // Same thread count for every pool torch may use (its OpenMP intra-op threads and the BLAS's own),
  // and passive OpenMP waiting: spinning workers collapse to a few tokens/s on a busy 2-core VM.
  const env = {
    ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE',
  };
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify({ ...shape, threads, warmup: 1, steps, max_seconds: 20 })], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  if (r.status !== 0) throw new Error(`torch_train.py failed (exit ${r.status}); is python3-torch installed?`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

/** One process: load the Q8_0 model, time `steps` training steps on one random sequence. */
async function worker(o: { model: string; threads: number; warmup: number; steps: number }): Promise<void> {
  const { loadModel } = await import('../src/engine/model/weights.js');
  const { createLora, LORA_TARGETS } = await import('../src/engine/model/lora.js');
  const { createTrainState, accumulateMicroBatch, applyUpdate, zeroGrads } = await import('../src/engine/train/step.js');
  const { assembleBatch } = await import('../src/engine/train/batching.js');
  const { kernels } = await import('../src/engine/kernels/index.js');
  const { mulberry32 } = await import('../src/util/random.js');

  const k = kernels();
  const model = loadModel(o.model, { kernels: k });
  const lora = createLora(model.config, { rank: SHAPE.rank, alpha: SHAPE.alpha, targets: LORA_TARGETS, dropout: 0, seed: 1 });
  const state = createTrainState(model, lora, { weightDecay: 0, threads: o.threads, kernels: k });
  const rand = mulberry32(5);
  const T = SHAPE.seq;
  const tokens = Int32Array.from({ length: T }, () => Math.floor(rand() * model.config.vocab));
  const mask = new Uint8Array(T).fill(1);
  const batch = assembleBatch({ examples: [0], T }, [{ tokens, mask }]);
  const step = (): void => {
    zeroGrads(state);
    accumulateMicroBatch(state, batch, 1 / batch.count, 0);
    applyUpdate(state, 1e-4, 1.0);
  };
  for (let i = 0; i < o.warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < o.steps; i++) {
    const start = performance.now();
    step();
    times.push((performance.now() - start) / 1000);
  }
  const seconds = times.reduce((a, b) => a + b, 0) / times.length;
  const info = k.info();
  console.log(JSON.stringify({
    threads: o.threads,
    step_seconds: times,
    tokens_per_s: T / seconds,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    trainable: lora.params.length,
    kernels: `${info.backend} ${info.isa}${info.vnni ? ' + VNNI' : ''}`,
  }));
}
