/**
 * The kernels the engine calls: picks the backend (the C++ addon when it loads, else the
 * TypeScript fallback; FINESEC_KERNELS=ts forces the fallback, =native requires the addon;
 * FINESEC_ISA=avx512|avx2|scalar forces a native instruction-set path) and checks every call's
 * dims and buffer lengths before it reaches either backend. `threads` defaults to 1 everywhere.
 */
import { UsageError } from '../../util/errors.js';
import { ISAS, q8Bytes, type BackendInfo, type Isa, type KernelBackend } from './api.js';
import { loadNative, type NativeBackend } from './native.js';
import { tsBackend } from './ts/index.js';

export type { BackendInfo, Isa, KernelBackend } from './api.js';
export { q8Bytes } from './api.js';

type F32 = Float32Array;

function int(fn: string, name: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${fn}: ${name} must be an integer >= ${min}, got ${v}`);
}

function finite(fn: string, name: string, v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new RangeError(`${fn}: ${name} must be a number, got ${String(v)}`);
}

function f32(fn: string, name: string, a: F32, need: number): void {
  if (!(a instanceof Float32Array)) throw new TypeError(`${fn}: ${name} must be a Float32Array`);
  if (a.length < need) throw new RangeError(`${fn}: ${name} has ${a.length} elements, needs ${need}`);
}

function u8(fn: string, name: string, a: Uint8Array, need: number): void {
  if (!(a instanceof Uint8Array)) throw new TypeError(`${fn}: ${name} must be a Uint8Array`);
  if (a.length < need) throw new RangeError(`${fn}: ${name} has ${a.length} bytes, needs ${need}`);
}

function i32(fn: string, name: string, a: Int32Array, need: number): void {
  if (!(a instanceof Int32Array)) throw new TypeError(`${fn}: ${name} must be an Int32Array`);
  if (a.length < need) throw new RangeError(`${fn}: ${name} has ${a.length} elements, needs ${need}`);
}

function mult32(fn: string, name: string, v: number): void {
  if (v % 32 !== 0) throw new RangeError(`${fn}: ${name} must be a multiple of 32 (Q8_0 blocks), got ${v}`);
}

/** Elements spanned by `rows` rows of `cols` values placed `ld` apart. */
function span(rows: number, ld: number, cols: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

/** A backend behind argument checks, plus the llm.c-style matmul helpers the engine uses. */
export class Kernels implements KernelBackend {
  readonly name: 'native' | 'ts';
  constructor(readonly backend: KernelBackend) {
    this.name = backend.name;
  }

  info(): BackendInfo {
    return this.backend.info();
  }

  /** out[M,N] (+)= inp[M,K] · weight[N,K]^T   (Y = X W^T) */
  matmulNT(out: F32, inp: F32, weight: F32, M: number, N: number, K: number, accumulate = false, threads = 1): void {
    this.sgemm(false, true, M, N, K, 1, inp, K, weight, K, accumulate ? 1 : 0, out, N, threads);
  }

  /** out[M,N] (+)= a[M,K] · b[K,N]   (dX = dY W, with W [N_out, K_in] read as [K, N] here) */
  matmulNN(out: F32, a: F32, b: F32, M: number, N: number, K: number, accumulate = false, threads = 1): void {
    this.sgemm(false, false, M, N, K, 1, a, K, b, N, accumulate ? 1 : 0, out, N, threads);
  }

  /** out[M,N] (+)= a[K,M]^T · b[K,N]   (dW = dY^T X) */
  matmulTN(out: F32, a: F32, b: F32, M: number, N: number, K: number, accumulate = false, threads = 1): void {
    this.sgemm(true, false, M, N, K, 1, a, M, b, N, accumulate ? 1 : 0, out, N, threads);
  }

  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: F32, lda: number, B: F32, ldb: number, beta: number, C: F32, ldc: number, threads = 1,
  ): void {
    const fn = 'sgemm';
    int(fn, 'M', M);
    int(fn, 'N', N);
    int(fn, 'K', K);
    int(fn, 'lda', lda, transA ? M : K);
    int(fn, 'ldb', ldb, transB ? K : N);
    int(fn, 'ldc', ldc, N);
    int(fn, 'threads', threads, 1);
    finite(fn, 'alpha', alpha);
    finite(fn, 'beta', beta);
    f32(fn, 'A', A, transA ? span(K, lda, M) : span(M, lda, K));
    f32(fn, 'B', B, transB ? span(N, ldb, K) : span(K, ldb, N));
    f32(fn, 'C', C, span(M, ldc, N));
    this.backend.sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
  }

  q8GemmNT(
    M: number, N: number, K: number, X: F32, ldx: number, W: Uint8Array, beta: number, Y: F32, ldy: number,
    quantizeX: boolean, threads = 1,
  ): void {
    const fn = 'q8GemmNT';
    int(fn, 'M', M);
    int(fn, 'N', N);
    int(fn, 'K', K);
    mult32(fn, 'K', K);
    int(fn, 'ldx', ldx, K);
    int(fn, 'ldy', ldy, N);
    int(fn, 'threads', threads, 1);
    finite(fn, 'beta', beta);
    f32(fn, 'X', X, span(M, ldx, K));
    u8(fn, 'W', W, q8Bytes(N, K));
    f32(fn, 'Y', Y, span(M, ldy, N));
    this.backend.q8GemmNT(M, N, K, X, ldx, W, beta, Y, ldy, quantizeX, threads);
  }

  q8GemmNN(
    M: number, N: number, K: number, dY: F32, lddy: number, W: Uint8Array, beta: number, dX: F32, lddx: number,
    threads = 1,
  ): void {
    const fn = 'q8GemmNN';
    int(fn, 'M', M);
    int(fn, 'N', N);
    int(fn, 'K', K);
    mult32(fn, 'K', K);
    int(fn, 'lddy', lddy, N);
    int(fn, 'lddx', lddx, K);
    int(fn, 'threads', threads, 1);
    finite(fn, 'beta', beta);
    f32(fn, 'dY', dY, span(M, lddy, N));
    u8(fn, 'W', W, q8Bytes(N, K));
    f32(fn, 'dX', dX, span(M, lddx, K));
    this.backend.q8GemmNN(M, N, K, dY, lddy, W, beta, dX, lddx, threads);
  }

  quantizeQ8_0(dst: Uint8Array, src: F32, rows: number, cols: number): void {
    const fn = 'quantizeQ8_0';
    int(fn, 'rows', rows);
    int(fn, 'cols', cols);
    mult32(fn, 'cols', cols);
    u8(fn, 'dst', dst, q8Bytes(rows, cols));
    f32(fn, 'src', src, rows * cols);
    this.backend.quantizeQ8_0(dst, src, rows, cols);
  }

  dequantizeQ8_0(dst: F32, src: Uint8Array, rows: number, cols: number): void {
    const fn = 'dequantizeQ8_0';
    int(fn, 'rows', rows);
    int(fn, 'cols', cols);
    mult32(fn, 'cols', cols);
    f32(fn, 'dst', dst, rows * cols);
    u8(fn, 'src', src, q8Bytes(rows, cols));
    this.backend.dequantizeQ8_0(dst, src, rows, cols);
  }

  rmsnormForward(out: F32, rstd: F32, inp: F32, weight: F32, N: number, C: number, eps: number, threads = 1): void {
    const fn = 'rmsnormForward';
    int(fn, 'N', N);
    int(fn, 'C', C, 1);
    int(fn, 'threads', threads, 1);
    finite(fn, 'eps', eps);
    f32(fn, 'out', out, N * C);
    f32(fn, 'rstd', rstd, N);
    f32(fn, 'inp', inp, N * C);
    f32(fn, 'weight', weight, C);
    this.backend.rmsnormForward(out, rstd, inp, weight, N, C, eps, threads);
  }

  rmsnormBackward(
    dinp: F32, dweight: F32 | null, dout: F32, inp: F32, weight: F32, rstd: F32, N: number, C: number, threads = 1,
  ): void {
    const fn = 'rmsnormBackward';
    int(fn, 'N', N);
    int(fn, 'C', C, 1);
    int(fn, 'threads', threads, 1);
    f32(fn, 'dinp', dinp, N * C);
    if (dweight !== null) f32(fn, 'dweight', dweight, C);
    f32(fn, 'dout', dout, N * C);
    f32(fn, 'inp', inp, N * C);
    f32(fn, 'weight', weight, C);
    f32(fn, 'rstd', rstd, N);
    this.backend.rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C, threads);
  }

  softmaxForward(
    out: F32, inp: F32, rows: number, cols: number, scale: number, causal: boolean, queryLen: number, threads = 1,
  ): void {
    const fn = 'softmaxForward';
    int(fn, 'rows', rows);
    int(fn, 'cols', cols);
    int(fn, 'queryLen', queryLen, 1);
    int(fn, 'threads', threads, 1);
    finite(fn, 'scale', scale);
    f32(fn, 'out', out, rows * cols);
    f32(fn, 'inp', inp, rows * cols);
    this.backend.softmaxForward(out, inp, rows, cols, scale, causal, queryLen, threads);
  }

  softmaxBackward(dinp: F32, dout: F32, out: F32, rows: number, cols: number, scale: number, threads = 1): void {
    const fn = 'softmaxBackward';
    int(fn, 'rows', rows);
    int(fn, 'cols', cols);
    int(fn, 'threads', threads, 1);
    finite(fn, 'scale', scale);
    f32(fn, 'dinp', dinp, rows * cols);
    f32(fn, 'dout', dout, rows * cols);
    f32(fn, 'out', out, rows * cols);
    this.backend.softmaxBackward(dinp, dout, out, rows, cols, scale, threads);
  }

  siluForward(out: F32, inp: F32, n: number, threads = 1): void {
    this.elementwise('siluForward', n, threads, { out, inp });
    this.backend.siluForward(out, inp, n, threads);
  }

  siluBackward(dinp: F32, dout: F32, inp: F32, n: number, threads = 1): void {
    this.elementwise('siluBackward', n, threads, { dinp, dout, inp });
    this.backend.siluBackward(dinp, dout, inp, n, threads);
  }

  swigluForward(out: F32, gate: F32, up: F32, n: number, threads = 1): void {
    this.elementwise('swigluForward', n, threads, { out, gate, up });
    this.backend.swigluForward(out, gate, up, n, threads);
  }

  swigluBackward(dgate: F32, dup: F32, dout: F32, gate: F32, up: F32, n: number, threads = 1): void {
    this.elementwise('swigluBackward', n, threads, { dgate, dup, dout, gate, up });
    this.backend.swigluBackward(dgate, dup, dout, gate, up, n, threads);
  }

  ropeForward(
    out: F32, inp: F32, pos: Int32Array, T: number, nHead: number, headDim: number, nRot: number, base: number,
    freqScale: number, neox: boolean, threads = 1,
  ): void {
    this.ropeArgs('ropeForward', out, inp, pos, T, nHead, headDim, nRot, base, freqScale, threads);
    this.backend.ropeForward(out, inp, pos, T, nHead, headDim, nRot, base, freqScale, neox, threads);
  }

  ropeBackward(
    dinp: F32, dout: F32, pos: Int32Array, T: number, nHead: number, headDim: number, nRot: number, base: number,
    freqScale: number, neox: boolean, threads = 1,
  ): void {
    this.ropeArgs('ropeBackward', dinp, dout, pos, T, nHead, headDim, nRot, base, freqScale, threads);
    this.backend.ropeBackward(dinp, dout, pos, T, nHead, headDim, nRot, base, freqScale, neox, threads);
  }

  add(out: F32, a: F32, b: F32, n: number, threads = 1): void {
    this.elementwise('add', n, threads, { out, a, b });
    this.backend.add(out, a, b, n, threads);
  }

  scale(out: F32, inp: F32, s: number, n: number, threads = 1): void {
    this.elementwise('scale', n, threads, { out, inp });
    finite('scale', 's', s);
    this.backend.scale(out, inp, s, n, threads);
  }

  axpy(y: F32, alpha: number, x: F32, n: number, threads = 1): void {
    this.elementwise('axpy', n, threads, { y, x });
    finite('axpy', 'alpha', alpha);
    this.backend.axpy(y, alpha, x, n, threads);
  }

  crossEntropy(
    losses: F32, dlogits: F32 | null, logits: F32, targets: Int32Array, T: number, V: number, dscale: number,
    threads = 1,
  ): number {
    const fn = 'crossEntropy';
    int(fn, 'T', T);
    int(fn, 'V', V, 1);
    int(fn, 'threads', threads, 1);
    finite(fn, 'dscale', dscale);
    f32(fn, 'losses', losses, T);
    if (dlogits !== null) f32(fn, 'dlogits', dlogits, T * V);
    f32(fn, 'logits', logits, T * V);
    i32(fn, 'targets', targets, T);
    for (let t = 0; t < T; t++) {
      if (targets[t]! >= V) throw new RangeError(`${fn}: targets[${t}] = ${targets[t]} is not below V = ${V}`);
    }
    return this.backend.crossEntropy(losses, dlogits, logits, targets, T, V, dscale, threads);
  }

  adamw(
    param: F32, grad: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, step: number, gradScale = 1, threads = 1,
  ): void {
    const fn = 'adamw';
    this.elementwise(fn, n, threads, { param, grad, m, v });
    int(fn, 'step', step, 1);
    for (const [name, value] of Object.entries({ lr, beta1, beta2, eps, weightDecay, gradScale })) finite(fn, name, value);
    this.backend.adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, threads);
  }

  private elementwise(fn: string, n: number, threads: number, arrays: Record<string, F32>): void {
    int(fn, 'n', n);
    int(fn, 'threads', threads, 1);
    for (const [name, a] of Object.entries(arrays)) f32(fn, name, a, n);
  }

  private ropeArgs(
    fn: string, out: F32, inp: F32, pos: Int32Array, T: number, nHead: number, headDim: number, nRot: number,
    base: number, freqScale: number, threads: number,
  ): void {
    int(fn, 'T', T);
    int(fn, 'nHead', nHead);
    int(fn, 'headDim', headDim);
    int(fn, 'nRot', nRot);
    if (nRot % 2 !== 0 || nRot > headDim) throw new RangeError(`${fn}: nRot must be even and <= headDim (${headDim}), got ${nRot}`);
    int(fn, 'threads', threads, 1);
    finite(fn, 'base', base);
    finite(fn, 'freqScale', freqScale);
    const n = T * nHead * headDim;
    f32(fn, 'out', out, n);
    f32(fn, 'inp', inp, n);
    i32(fn, 'pos', pos, T);
  }
}

export type KernelRequest = 'auto' | 'native' | 'ts';

export interface KernelStatus {
  /** FINESEC_KERNELS (auto when unset). */
  requested: KernelRequest;
  backend: 'native' | 'ts';
  /** Why this backend is active. */
  reason: string;
  native: { loaded: boolean; path: string; error?: string };
  info: BackendInfo;
  /** Things worth a warning (fallback in use, no AVX2); printed once by kernels(). */
  notices: string[];
}

interface Selection {
  kernels: Kernels;
  status: KernelStatus;
}

let selection: Selection | undefined;
let announced = false;

function requestedBackend(): KernelRequest {
  const raw = (process.env.FINESEC_KERNELS ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'auto') return 'auto';
  if (raw === 'native' || raw === 'ts') return raw;
  throw new UsageError(`FINESEC_KERNELS must be auto, native or ts, got "${process.env.FINESEC_KERNELS}"`);
}

function requestedIsa(): Isa | undefined {
  const raw = (process.env.FINESEC_ISA ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'auto') return undefined;
  if ((ISAS as readonly string[]).includes(raw)) return raw as Isa;
  throw new UsageError(`FINESEC_ISA must be auto, ${ISAS.join(', ')}, got "${process.env.FINESEC_ISA}"`);
}

function select(): Selection {
  if (selection) return selection;
  const requested = requestedBackend();
  const isa = requestedIsa();
  const native = requested === 'ts' ? undefined : loadNative();
  const nativeStatus = native
    ? { loaded: native.ok, path: native.path, ...(native.ok ? {} : { error: native.reason }) }
    : { loaded: false, path: loadNative().path, error: 'not tried: FINESEC_KERNELS=ts' };
  const notices: string[] = [];
  let backend: KernelBackend;
  let reason: string;
  if (native?.ok) {
    if (isa && !native.backend.setIsa(isa)) {
      throw new UsageError(`FINESEC_ISA=${isa}, but this CPU lacks it (best available: ${native.backend.info().isa})`);
    }
    backend = native.backend;
    reason = isa ? `native addon, ISA forced by FINESEC_ISA=${isa}` : 'native addon loaded';
    if (native.backend.info().isa === 'scalar' && !isa) {
      notices.push('this CPU lacks AVX2+FMA: the native kernels use the portable scalar path (slow)');
    }
  } else if (requested === 'native') {
    throw new UsageError(`FINESEC_KERNELS=native, but the addon did not load: ${native?.ok === false ? native.reason : 'unknown'}`);
  } else {
    backend = tsBackend;
    if (requested === 'ts') {
      reason = 'TypeScript fallback forced by FINESEC_KERNELS=ts';
    } else {
      reason = 'TypeScript fallback: the native addon did not load';
      notices.push(`native kernels unavailable (${nativeStatus.error}); using the TypeScript fallback (slow)`);
    }
  }
  const kernels = new Kernels(backend);
  selection = {
    kernels,
    status: { requested, backend: backend.name, reason, native: nativeStatus, info: backend.info(), notices },
  };
  return selection;
}

/**
 * The active kernels. Unless told not to, the first call announces anything worth a warning
 * (fallback in use, no AVX2) once, on stderr.
 */
export function kernels(options: { announce?: boolean } = {}): Kernels {
  const s = select();
  if (!announced && options.announce !== false) {
    announced = true;
    for (const notice of s.status.notices) process.stderr.write(`warning: ${notice}\n`);
  }
  return s.kernels;
}

/** Which kernels are active and why (for `finesec doctor`); does not print anything. */
export function kernelStatus(): KernelStatus {
  return select().status;
}

/** Forgets the selection so the next call re-reads FINESEC_KERNELS / FINESEC_ISA (tests). */
export function resetKernelSelection(): void {
  selection = undefined;
  announced = false;
}

/** Kernels on a specific backend, bypassing the environment (tests and benchmarks). */
export function kernelsFor(backend: 'ts'): Kernels;
export function kernelsFor(backend: 'native', isa?: Isa): Kernels & { backend: NativeBackend };
export function kernelsFor(backend: 'ts' | 'native', isa?: Isa): Kernels {
  if (backend === 'ts') return new Kernels(tsBackend);
  const native = loadNative();
  if (!native.ok) throw new Error(`native kernels unavailable: ${native.reason}`);
  if (!native.backend.setIsa(isa ?? 'auto')) throw new Error(`native kernels: this CPU lacks ${isa}`);
  return new Kernels(native.backend);
}

/** The native instruction-set paths this CPU can run (empty when the addon does not load). */
export function availableIsas(): Isa[] {
  const native = loadNative();
  if (!native.ok) return [];
  const current = native.backend.info().isa as Isa;
  const out = ISAS.filter((isa) => native.backend.setIsa(isa));
  native.backend.setIsa(current);
  return out;
}
