/**
 * Q8_0 in TypeScript (ggml block_q8_0: f16 scale d, then 32 int8 q; value = d * q), with the same
 * rounding rules as the addon, so quantised bytes and integer block sums are identical.
 */
import { storeRow } from './gemm.js';
import { f16ToF32, f32ToF16, roundHalfAway, roundHalfEven } from './f16.js';

const QK = 32;
const BLOCK = 34;
const fround = Math.fround;

function rowBytes(cols: number): number {
  return (cols / QK) * BLOCK;
}

function blockScale(bytes: Uint8Array, off: number): number {
  return f16ToF32(bytes[off]! | (bytes[off + 1]! << 8));
}

/** Weights, as ggml's quantize_row_q8_0_ref: d = amax/127, q = roundf(x * (1/d)). */
export function quantizeQ8_0(dst: Uint8Array, src: Float32Array, rows: number, cols: number): void {
  const q = new Int8Array(dst.buffer, dst.byteOffset, dst.byteLength);
  const nb = cols / QK;
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const x = r * cols + b * QK;
      let amax = 0;
      for (let l = 0; l < QK; l++) amax = Math.max(amax, Math.abs(src[x + l]!));
      const d = fround(amax / 127);
      const id = d !== 0 ? fround(1 / d) : 0;
      const h = f32ToF16(d);
      const o = (r * nb + b) * BLOCK;
      dst[o] = h & 0xff;
      dst[o + 1] = h >> 8;
      for (let l = 0; l < QK; l++) q[o + 2 + l] = roundHalfAway(fround(src[x + l]! * id));
    }
  }
}

export function dequantizeQ8_0(dst: Float32Array, src: Uint8Array, rows: number, cols: number): void {
  const q = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  const nb = cols / QK;
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const o = (r * nb + b) * BLOCK;
      const d = blockScale(src, o);
      for (let l = 0; l < QK; l++) dst[r * cols + b * QK + l] = d * q[o + 2 + l]!;
    }
  }
}

/**
 * Activations, as ggml's x86 CPU quantize_row_q8_0: d = amax/127 stored as f16, q = round-half-even
 * of x * (127/amax) in f32. Returns q [rows, K] and d [rows, K/32] (the f16-rounded scales).
 */
export function quantizeActivations(X: Float32Array, ldx: number, rows: number, K: number): { q: Int8Array; d: Float32Array } {
  const nb = K / QK;
  const q = new Int8Array(rows * K);
  const d = new Float32Array(rows * nb);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const x = r * ldx + b * QK;
      let amax = 0;
      for (let l = 0; l < QK; l++) amax = Math.max(amax, Math.abs(X[x + l]!));
      const id = amax !== 0 ? fround(127 / amax) : 0;
      d[r * nb + b] = f16ToF32(f32ToF16(fround(amax / 127)));
      for (let l = 0; l < QK; l++) q[r * K + b * QK + l] = roundHalfEven(fround(X[x + l]! * id));
    }
  }
  return { q, d };
}

/** Y[M,N] = X[M,K] · W^T + beta * Y with W Q8_0 [N,K]; see KernelBackend.q8GemmNT. */
export function q8GemmNT(
  M: number, N: number, K: number, X: Float32Array, ldx: number, W: Uint8Array, beta: number,
  Y: Float32Array, ldy: number, quantizeX: boolean,
): void {
  if (quantizeX) {
    q8q8GemmNT(M, N, K, X, ldx, W, beta, Y, ldy);
    return;
  }
  const row = new Float32Array(K);
  const out = new Float64Array(M * N);
  const bytes = rowBytes(K);
  for (let n = 0; n < N; n++) {
    dequantizeQ8_0(row, W.subarray(n * bytes, (n + 1) * bytes), 1, K);
    for (let m = 0; m < M; m++) {
      let s = 0;
      const x = m * ldx;
      for (let k = 0; k < K; k++) s += X[x + k]! * row[k]!;
      out[m * N + n] = s;
    }
  }
  for (let m = 0; m < M; m++) storeRow(Y, m * ldy, out.subarray(m * N, (m + 1) * N), N, 1, beta);
}

/** The integer path: per block sumi = sum(q_x*q_w); y = sum_b sumi * (d_w*d_x), accumulated in f32 like the addon. */
function q8q8GemmNT(M: number, N: number, K: number, X: Float32Array, ldx: number, W: Uint8Array, beta: number, Y: Float32Array, ldy: number): void {
  const { q, d } = quantizeActivations(X, ldx, M, K);
  const w = new Int8Array(W.buffer, W.byteOffset, W.byteLength);
  const nb = K / QK;
  const bytes = rowBytes(K);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let b = 0; b < nb; b++) {
        const o = n * bytes + b * BLOCK;
        let si = 0;
        const xo = m * K + b * QK;
        for (let l = 0; l < QK; l++) si += q[xo + l]! * w[o + 2 + l]!;
        sum = fround(si * fround(blockScale(W, o) * d[m * nb + b]!) + sum);
      }
      const yi = m * ldy + n;
      Y[yi] = beta === 0 ? sum : beta * Y[yi]! + sum;
    }
  }
}

/** dX[M,K] = dY[M,N] · W + beta * dX with W Q8_0 [N,K]. */
export function q8GemmNN(
  M: number, N: number, K: number, dY: Float32Array, lddy: number, W: Uint8Array, beta: number,
  dX: Float32Array, lddx: number,
): void {
  const row = new Float32Array(K);
  const acc = new Float64Array(M * K);
  const bytes = rowBytes(K);
  for (let n = 0; n < N; n++) {
    dequantizeQ8_0(row, W.subarray(n * bytes, (n + 1) * bytes), 1, K);
    for (let m = 0; m < M; m++) {
      const g = dY[m * lddy + n]!;
      const o = m * K;
      for (let k = 0; k < K; k++) acc[o + k]! += g * row[k]!;
    }
  }
  for (let m = 0; m < M; m++) storeRow(dX, m * lddx, acc.subarray(m * K, (m + 1) * K), K, 1, beta);
}
