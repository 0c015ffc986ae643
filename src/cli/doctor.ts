import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandSpec } from './command.js';
import { requireInt } from './command.js';
import { ExitCode } from '../util/errors.js';
import { kernelStatus, kernels, q8Bytes, type Kernels } from '../engine/kernels/index.js';

interface SelfCheck {
  name: string;
  ok: boolean;
  /** max |got - want| / max |want| against a float64 reference */
  error: number;
  tolerance: number;
}

/** The installed node-llama-cpp version, found the way Node resolves packages (upwards from here). */
function nodeLlamaCppVersion(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'node_modules', 'node-llama-cpp', 'package.json');
    if (existsSync(pkg)) return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Deterministic values in [-1, 1) (a small LCG, so the check is the same on every run). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function relError(got: Float32Array, want: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return scale === 0 ? err : err / scale;
}

/** Y = X W^T with odd shapes on the active kernels (f32, Q8_0 both modes, threads 1 and N) vs float64. */
function selfCheck(k: Kernels, threads: number): SelfCheck[] {
  const [M, N, K] = [19, 45, 96];
  const X = values(M * K, 1);
  const W = values(N * K, 2);
  const want = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += X[m * K + j]! * W[n * K + j]!;
      want[m * N + n] = s;
    }
  const checks: SelfCheck[] = [];
  const y = new Float32Array(M * N);
  k.matmulNT(y, X, W, M, N, K, false, 1);
  checks.push({ name: 'f32 gemm', ok: true, error: relError(y, want), tolerance: 1e-5 });
  const yThreads = new Float32Array(M * N);
  k.matmulNT(yThreads, X, W, M, N, K, false, threads);
  const same = yThreads.every((v, i) => v === y[i]);
  checks.push({ name: `f32 gemm, ${threads} threads = 1 thread`, ok: same, error: same ? 0 : relError(yThreads, want), tolerance: 0 });
  const Wq = new Uint8Array(q8Bytes(N, K));
  k.quantizeQ8_0(Wq, W, N, K);
  // Q8_0 against the unquantised weights: 8-bit weights (and activations) cost ~1e-2 relative
  for (const quantizeX of [false, true]) {
    const yq = new Float32Array(M * N);
    k.q8GemmNT(M, N, K, X, K, Wq, 0, yq, N, quantizeX, threads);
    checks.push({ name: `q8_0 gemm${quantizeX ? ' (q8 activations)' : ''}`, ok: true, error: relError(yq, want), tolerance: 3e-2 });
  }
  for (const c of checks) if (c.tolerance > 0) c.ok = c.error <= c.tolerance;
  return checks;
}

export const command: CommandSpec = {
  name: 'doctor',
  summary: 'show which compute kernels are active (native addon or TypeScript fallback, ISA, VNNI) and self-check them',
  description:
    'Environment: FINESEC_KERNELS=auto|native|ts chooses the backend (ts forces the fallback); ' +
    'FINESEC_ISA=avx512|avx2|scalar forces a native instruction-set path. Exits 1 when the self-check fails.',
  options: {
    threads: { type: 'number', help: 'threads for the multithreaded self-check', default: 1, arg: 'N' },
  },
  async run(ctx) {
    const threads = requireInt(ctx.args, 'doctor', 'threads', 1) ?? 1;
    const k = kernels({ announce: false }); // the notices are part of the report below
    const status = kernelStatus();
    const checks = selfCheck(k, threads);
    const ok = checks.every((c) => c.ok);
    const result = {
      kernels: {
        backend: status.backend,
        requested: status.requested,
        reason: status.reason,
        addon: status.native,
        isa: status.info.isa,
        vnni: status.info.vnni,
        cpuFeatures: status.info.features,
        threadsDefault: 1,
        notices: status.notices,
      },
      system: {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpu: cpus()[0]?.model ?? 'unknown',
        cpus: availableParallelism(),
      },
      nodeLlamaCpp: nodeLlamaCppVersion(),
      selfCheck: { ok, threads, checks },
    };
    const features = Object.entries(status.info.features)
      .filter(([, v]) => v)
      .map(([name]) => name);
    const text = [
      `kernels:        ${status.backend === 'native' ? 'native addon' : 'TypeScript fallback'} (${status.reason})`,
      `addon:          ${status.native.loaded ? `loaded from ${status.native.path}` : `not loaded: ${status.native.error}`}`,
      `ISA path:       ${status.info.isa}${status.info.vnni ? ' + VNNI (int8 Q8_0 products)' : ''}`,
      `VNNI:           ${status.info.vnni ? 'yes' : 'no'}`,
      `CPU features:   ${features.length ? features.join(' ') : '(not detected by the fallback)'}`,
      `threads:        default 1 (this machine has ${availableParallelism()} CPUs)`,
      `node-llama-cpp: ${result.nodeLlamaCpp ?? 'not installed'}`,
      `system:         node ${process.version}, ${result.system.platform}, ${result.system.cpu}`,
      ...status.notices.map((n) => `warning:        ${n}`),
      `self-check:     ${ok ? 'OK' : 'FAILED'}`,
      ...checks.map(
        (c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(34)} ${c.tolerance > 0 ? `rel. error ${c.error.toExponential(2)} (limit ${c.tolerance.toExponential(0)})` : c.ok ? 'identical' : 'differs'}`,
      ),
    ].join('\n');
    ctx.result(result, text);
    return ok ? ExitCode.ok : ExitCode.gateFailed;
  },
};
