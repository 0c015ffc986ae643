/**
 * GFLOP/s of the native kernels for Y = X W^T (f32 GEMM, and Q8_0 weights with f32 or 8-bit
 * activations) at 1 and 2 threads, for 1024^3 and for the products of a ~100M-parameter llama
 * (512 tokens, embd 768, ff 2048, vocab 32000), next to PyTorch's f32 F.linear on the same shapes
 * measured in the same run (/usr/bin/python3 bench/torch_kernels.py, torch.set_num_threads
 * matching). Every time is the best of >= 3 runs after a warm-up (1 run when a run takes > 3 s:
 * slow reference BLAS). Ends with one line
 *   RESULT kernels ratio=<finesec / pytorch, f32 GEMM, 1 thread, model shapes>
 * where "model shapes" is one forward of the 12-layer model: 4 attention projections, gate, up and
 * down per layer, and the output projection once.
 * Usage: npm run bench:kernels [-- --quick]   (--quick: fewer repetitions)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kernelsFor, q8Bytes, type Kernels } from '../src/engine/kernels/index.js';
import { loadNative } from '../src/engine/kernels/native.js';

interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
  /** uses per model forward (0: not part of the model mix) */
  perForward: number;
}

const LAYERS = 12;
const SHAPES: Shape[] = [
  { name: 'square 1024^3', M: 1024, N: 1024, K: 1024, perForward: 0 },
  { name: 'attn q/k/v/o', M: 512, N: 768, K: 768, perForward: 4 * LAYERS },
  { name: 'ffn gate/up', M: 512, N: 2048, K: 768, perForward: 2 * LAYERS },
  { name: 'ffn down', M: 512, N: 768, K: 2048, perForward: LAYERS },
  { name: 'output', M: 512, N: 32000, K: 768, perForward: 1 },
];
const THREADS = [1, 2];
const OPS = ['f32', 'q8 f32-act', 'q8 q8-act'] as const;
type Op = (typeof OPS)[number];

const quick = process.argv.includes('--quick');
const MIN_SECONDS = quick ? 0.1 : 0.4;
const MIN_REPS = quick ? 2 : 3;

/** Best of >= MIN_REPS timed runs after a warm-up (a single timed run once they add up to 3 s). */
function bestSeconds(fn: () => void): number {
  fn();
  let best = Infinity;
  let total = 0;
  for (let reps = 0; (reps < MIN_REPS || total < MIN_SECONDS) && !(reps >= 1 && total >= 3); reps++) {
    const start = process.hrtime.bigint();
    fn();
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.min(best, s);
    total += s;
  }
  return best;
}

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const flops = (s: Shape): number => 2 * s.M * s.N * s.K;
const key = (s: Shape, threads: number): string => `${s.M}x${s.N}x${s.K}@${threads}`;

function measureFinesec(k: Kernels): Map<string, Record<Op, number>> {
  const out = new Map<string, Record<Op, number>>();
  for (const s of SHAPES) {
    const X = values(s.M * s.K, 1);
    const W = values(s.N * s.K, 2);
    const Wq = new Uint8Array(q8Bytes(s.N, s.K));
    k.quantizeQ8_0(Wq, W, s.N, s.K);
    const Y = new Float32Array(s.M * s.N);
    for (const threads of THREADS) {
      out.set(key(s, threads), {
        f32: bestSeconds(() => k.matmulNT(Y, X, W, s.M, s.N, s.K, false, threads)),
        'q8 f32-act': bestSeconds(() => k.q8GemmNT(s.M, s.N, s.K, X, s.K, Wq, 0, Y, s.N, false, threads)),
        'q8 q8-act': bestSeconds(() => k.q8GemmNT(s.M, s.N, s.K, X, s.K, Wq, 0, Y, s.N, true, threads)),
      });
      process.stderr.write(`  measured ${s.name} at ${threads} thread(s)\n`);
    }
  }
  return out;
}

interface TorchRun {
  torch: string;
  blas: string;
  seconds: Map<string, number>;
}

function measureTorch(): TorchRun | { error: string } {
  const script = fileURLToPath(new URL('./torch_kernels.py', import.meta.url));
  const config = { shapes: SHAPES.map((s) => [s.M, s.N, s.K]), threads: THREADS, min_seconds: MIN_SECONDS, min_reps: MIN_REPS };
  const run = spawnSync('/usr/bin/python3', [script, JSON.stringify(config)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (run.error || run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim().split('\n').pop() ?? `exit ${run.status}`;
    return { error: `PyTorch run failed (${why}); install it with: apt-get install -y python3-torch` };
  }
  const parsed = JSON.parse(run.stdout) as { torch: string; blas: string; results: Array<{ M: number; N: number; K: number; threads: number; seconds: number }> };
  const seconds = new Map<string, number>();
  for (const r of parsed.results) seconds.set(`${r.M}x${r.N}x${r.K}@${r.threads}`, r.seconds);
  return { torch: parsed.torch, blas: parsed.blas, seconds };
}

const fmt = (v: number, width = 7, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a').padStart(width);

function main(): number {
  const native = loadNative();
  if (!native.ok) {
    console.error(`native kernels unavailable: ${native.reason}`);
    console.log('RESULT kernels ratio=nan');
    return 1;
  }
  const k = kernelsFor('native');
  const info = k.info();
  process.stderr.write(`finesec kernels: native ${info.isa}${info.vnni ? ' + VNNI' : ''}; measuring...\n`);
  const mine = measureFinesec(k);
  process.stderr.write('PyTorch (/usr/bin/python3 bench/torch_kernels.py)...\n');
  const torch = measureTorch();
  const torchSeconds = (s: Shape, t: number): number => ('error' in torch ? NaN : torch.seconds.get(key(s, t)) ?? NaN);

  console.log(`finesec native kernels (${info.isa}${info.vnni ? ' + VNNI' : ''}) vs PyTorch f32 F.linear, Y[M,N] = X[M,K] W[N,K]^T, GFLOP/s (2MNK / best time)`);
  if ('error' in torch) console.log(`PyTorch: ${torch.error}`);
  else console.log(`PyTorch ${torch.torch}, BLAS: ${torch.blas}`);
  console.log('ratio = finesec GFLOP/s / PyTorch f32 GFLOP/s on the same shape and thread count');
  console.log('');
  const header = `${'shape'.padEnd(16)}${'M x N x K'.padEnd(18)}thr | ${'torch f32'.padStart(9)} | ${'f32'.padStart(7)} ${'ratio'.padStart(6)} | ${'q8 f32-act'.padStart(10)} ${'ratio'.padStart(6)} | ${'q8 q8-act'.padStart(9)} ${'ratio'.padStart(6)}`;
  console.log(header);
  console.log('-'.repeat(header.length));
  const row = (name: string, dims: string, threads: number, work: number, torchS: number, t: Record<Op, number>): void => {
    const tg = work / torchS / 1e9;
    const cells = OPS.map((op, i) => {
      const g = work / t[op] / 1e9;
      return `${fmt(g, i === 0 ? 7 : i === 1 ? 10 : 9)} ${fmt(g / tg, 6, 2)}`;
    });
    console.log(`${name.padEnd(16)}${dims.padEnd(18)}${String(threads).padStart(3)} | ${fmt(tg, 9)} | ${cells.join(' | ')}`);
  };
  let result = NaN;
  for (const threads of THREADS) {
    const mix: Record<Op, number> = { f32: 0, 'q8 f32-act': 0, 'q8 q8-act': 0 };
    let mixTorch = 0;
    let mixWork = 0;
    for (const s of SHAPES) {
      const t = mine.get(key(s, threads))!;
      row(s.name, `${s.M}x${s.N}x${s.K}`, threads, flops(s), torchSeconds(s, threads), t);
      if (s.perForward > 0) {
        for (const op of OPS) mix[op] += s.perForward * t[op];
        mixTorch += s.perForward * torchSeconds(s, threads);
        mixWork += s.perForward * flops(s);
      }
    }
    row('model forward', `${LAYERS} layers`, threads, mixWork, mixTorch, mix);
    if (threads === 1) result = mixWork / mix.f32 / (mixWork / mixTorch);
    console.log('');
  }
  console.log(`RESULT kernels ratio=${Number.isFinite(result) ? result.toFixed(2) : 'nan'}`);
  return Number.isFinite(result) ? 0 : 1;
}

process.exitCode = main();
