/**
 * Q8_0 (ggml block_q8_0) kernels on every backend.
 * - quantisation: bytes identical across backends; d = f16(amax/127); |x - d q| <= d/2.
 * - f32-activation products (Y = X W^T and dX = dY W) against a float64 reference on the
 *   dequantised weights: |err| <= 1e-5 * sum_k |x_k w_k| per element, NMSE <= 1e-12.
 * - quantised-activation product against a float64 re-implementation of llama.cpp's CPU integer
 *   arithmetic written here: |err| <= 1e-6 * sum_b |d_w d_x sumi_b| per element.
 */
import { describe, expect, it } from 'vitest';
import { q8Bytes } from '../../src/engine/kernels/index.js';
import { backendCases, checkGradient, compare, randomF32, rng, weightedSum } from './kernels.helpers.js';

const fround = Math.fround;

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  return e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Nearest f16 value of an f32 (ties to even), by search over the f16 grid: independent of the code under test. */
function toF16Value(x: number): number {
  if (x === 0) return 0;
  const e = Math.max(-14, Math.floor(Math.log2(Math.abs(x))));
  const ulp = 2 ** (e - 10);
  const q = Math.abs(x) / ulp;
  let r = Math.floor(q);
  if (q - r > 0.5 || (q - r === 0.5 && r % 2 === 1)) r++;
  return Math.sign(x) * r * ulp;
}

/** llama.cpp x86 quantize_row_q8_0 for activations: d = amax/127 (kept as f16), q = round-half-even(x * 127/amax). */
function quantizeActivations(x: Float32Array, off: number, K: number): { q: Int32Array; d: Float64Array } {
  const nb = K / 32;
  const q = new Int32Array(K);
  const d = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let l = 0; l < 32; l++) amax = Math.max(amax, Math.abs(x[off + b * 32 + l]!));
    const id = amax === 0 ? 0 : fround(127 / amax);
    d[b] = toF16Value(fround(amax / 127));
    for (let l = 0; l < 32; l++) {
      const v = fround(x[off + b * 32 + l]! * id);
      let r = Math.round(v);
      if (r - v === 0.5 && r % 2 !== 0) r -= 1; // ties to even
      q[b * 32 + l] = r;
    }
  }
  return { q, d };
}

function blockScale(W: Uint8Array, off: number): number {
  return f16ToF32(W[off]! | (W[off + 1]! << 8));
}

function dequantized(W: Uint8Array, N: number, K: number): Float64Array {
  const out = new Float64Array(N * K);
  const q = new Int8Array(W.buffer, W.byteOffset, W.byteLength);
  for (let n = 0; n < N; n++)
    for (let b = 0; b < K / 32; b++) {
      const o = (n * (K / 32) + b) * 34;
      const d = blockScale(W, o);
      for (let l = 0; l < 32; l++) out[n * K + b * 32 + l] = d * q[o + 2 + l]!;
    }
  return out;
}

/** Weights with some structure: a zero block, a small block (its f16 d is subnormal), a large one. */
function weights(N: number, K: number, seed: number): Float32Array {
  const w = randomF32(N * K, seed);
  for (let l = 0; l < 32; l++) w[l] = 0;
  if (K >= 64) for (let l = 32; l < 64; l++) w[l] = w[l]! * 1e-4;
  if (N > 1) for (let l = 0; l < 32; l++) w[K + l] = w[K + l]! * 300;
  return w;
}

const SHAPES: Array<[number, number, number]> = [[1, 45, 64], [2, 3, 32], [5, 33, 96], [17, 70, 288], [30, 100, 32], [7, 129, 544]];

for (const backend of backendCases()) {
  describe(`Q8_0 on ${backend.label}`, () => {
    it('quantises like ggml: d = f16(amax/127), q = round(x/d), and dequantises to d*q', () => {
      const k = backend.get();
      const [N, K] = [9, 160];
      const x = weights(N, K, 1);
      const W = new Uint8Array(q8Bytes(N, K));
      k.quantizeQ8_0(W, x, N, K);
      const q = new Int8Array(W.buffer);
      const back = new Float32Array(N * K);
      k.dequantizeQ8_0(back, W, N, K);
      for (let n = 0; n < N; n++)
        for (let b = 0; b < K / 32; b++) {
          const o = (n * (K / 32) + b) * 34;
          let amax = 0;
          for (let l = 0; l < 32; l++) amax = Math.max(amax, Math.abs(x[n * K + b * 32 + l]!));
          const d = blockScale(W, o);
          const d32 = fround(amax / 127);
          expect(d).toBe(toF16Value(d32));
          for (let l = 0; l < 32; l++) {
            const i = n * K + b * 32 + l;
            const qi = q[o + 2 + l]!;
            expect(Math.abs(qi)).toBeLessThanOrEqual(127);
            expect(back[i]).toBe(fround(d * qi));
            // q rounds x / d32 (the f32 scale); storing d as f16 adds |d32 - d| * |q|
            expect(Math.abs(x[i]! - d * qi)).toBeLessThanOrEqual(d32 / 2 + Math.abs(d32 - d) * 127 + 1e-12 * d32 + 1e-30);
          }
        }
    });

    it('quantises to the same bytes as the TypeScript fallback', () => {
      const k = backend.get();
      const [N, K] = [13, 96];
      const x = weights(N, K, 2);
      const mine = new Uint8Array(q8Bytes(N, K));
      const theirs = new Uint8Array(q8Bytes(N, K));
      k.quantizeQ8_0(mine, x, N, K);
      backendCases()[0]!.get().quantizeQ8_0(theirs, x, N, K);
      expect(Buffer.from(mine).equals(Buffer.from(theirs))).toBe(true);
    });

    it('Y = X W^T with f32 activations matches float64 on the dequantised weights (odd shapes, M = 1)', () => {
      const k = backend.get();
      SHAPES.forEach(([M, N, K], index) => {
        const W = new Uint8Array(q8Bytes(N, K));
        k.quantizeQ8_0(W, weights(N, K, 10 + index), N, K);
        const Wd = dequantized(W, N, K);
        const ldx = K + 5;
        const ldy = N + 3;
        const X = randomF32(M * ldx, 20 + index);
        const beta = index % 2 === 0 ? 0 : 1;
        const Y0 = randomF32(M * ldy, 30 + index);
        const Y = Float32Array.from(Y0);
        k.q8GemmNT(M, N, K, X, ldx, W, beta, Y, ldy, false, 1);
        const want = new Float64Array(M * N);
        const bound = new Float64Array(M * N);
        const got = new Float64Array(M * N);
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let s = 0;
            let b = 0;
            for (let j = 0; j < K; j++) {
              s += X[m * ldx + j]! * Wd[n * K + j]!;
              b += Math.abs(X[m * ldx + j]! * Wd[n * K + j]!);
            }
            const c = beta * Y0[m * ldy + n]!;
            want[m * N + n] = s + c;
            bound[m * N + n] = b + Math.abs(c) + 1e-30;
            got[m * N + n] = Y[m * ldy + n]!;
          }
        const { maxRel, nmse } = compare(got, want, bound);
        expect(maxRel, `${M}x${N}x${K}`).toBeLessThanOrEqual(1e-5);
        expect(nmse, `${M}x${N}x${K}`).toBeLessThanOrEqual(1e-12);
      });
    });

    it('dX = dY W (the backward of Y = X W^T) matches float64 on the dequantised weights', () => {
      const k = backend.get();
      SHAPES.forEach(([M, N, K], index) => {
        const W = new Uint8Array(q8Bytes(N, K));
        k.quantizeQ8_0(W, weights(N, K, 40 + index), N, K);
        const Wd = dequantized(W, N, K);
        const dY = randomF32(M * N, 50 + index);
        const dX = new Float32Array(M * K).fill(index % 2 ? 0.5 : NaN);
        const beta = index % 2;
        k.q8GemmNN(M, N, K, dY, N, W, beta, dX, K, 1);
        const want = new Float64Array(M * K);
        const bound = new Float64Array(M * K);
        for (let m = 0; m < M; m++)
          for (let j = 0; j < K; j++) {
            let s = beta * 0.5;
            let b = Math.abs(s);
            for (let n = 0; n < N; n++) {
              s += dY[m * N + n]! * Wd[n * K + j]!;
              b += Math.abs(dY[m * N + n]! * Wd[n * K + j]!);
            }
            want[m * K + j] = s;
            bound[m * K + j] = b + 1e-30;
          }
        const { maxRel, nmse } = compare(dX, want, bound);
        expect(maxRel, `${M}x${N}x${K}`).toBeLessThanOrEqual(1e-5);
        expect(nmse, `${M}x${N}x${K}`).toBeLessThanOrEqual(1e-12);
      });
    });

    it('dX = dY W agrees with finite differences of Y = X W^T (eps 1e-2, <= 40 elements, 2e-3 + 1e-3|n|)', () => {
      const k = backend.get();
      const [M, N, K] = [3, 5, 64];
      const W = new Uint8Array(q8Bytes(N, K));
      k.quantizeQ8_0(W, weights(N, K, 3), N, K);
      const X = randomF32(M * K, 4);
      const R = randomF32(M * N, 5);
      const Y = new Float32Array(M * N);
      const dX = new Float32Array(M * K);
      k.q8GemmNN(M, N, K, R, N, W, 0, dX, K);
      const r = checkGradient(X, dX, () => {
        k.q8GemmNT(M, N, K, X, K, W, 0, Y, N, false);
        return weightedSum(Y, R);
      }, { eps: 1e-2, maxChecks: 40, abs: 2e-3, rel: 1e-3 });
      expect(r.failures).toEqual([]);
      expect(r.checked).toBeGreaterThanOrEqual(36);
    });

    it('quantised activations reproduce llama.cpp integer arithmetic: sum_b d_w*d_x*sum(q_w*q_x)', () => {
      const k = backend.get();
      SHAPES.forEach(([M, N, K], index) => {
        const W = new Uint8Array(q8Bytes(N, K));
        k.quantizeQ8_0(W, weights(N, K, 60 + index), N, K);
        const wq = new Int8Array(W.buffer);
        const ldx = K + 3;
        const X = randomF32(M * ldx, 70 + index, -2, 2);
        for (let l = 0; l < 32; l++) X[l] = 0; // an all-zero activation block: d = 0
        const Y = new Float32Array(M * N);
        k.q8GemmNT(M, N, K, X, ldx, W, 0, Y, N, true, 1);
        const want = new Float64Array(M * N);
        const bound = new Float64Array(M * N);
        for (let m = 0; m < M; m++) {
          const { q, d } = quantizeActivations(X, m * ldx, K);
          for (let n = 0; n < N; n++) {
            let s = 0;
            let b = 0;
            for (let blk = 0; blk < K / 32; blk++) {
              const o = (n * (K / 32) + blk) * 34;
              let sumi = 0;
              for (let l = 0; l < 32; l++) sumi += q[blk * 32 + l]! * wq[o + 2 + l]!;
              const term = sumi * fround(blockScale(W, o) * d[blk]!);
              s += term;
              b += Math.abs(term);
            }
            want[m * N + n] = s;
            bound[m * N + n] = b + 1e-30;
          }
        }
        const { maxRel } = compare(Y, want, bound);
        expect(maxRel, `${M}x${N}x${K}`).toBeLessThanOrEqual(1e-6);
      });
    });

    it('the integer path is exact for every int8 weight, including -128 (weights not from our quantiser)', () => {
      const k = backend.get();
      const [M, N, K] = [6, 35, 128];
      const r = rng(15);
      const W = new Uint8Array(q8Bytes(N, K));
      const wq = new Int8Array(W.buffer);
      for (let blk = 0; blk < N * (K / 32); blk++) {
        const o = blk * 34;
        W[o] = Math.floor(r(0, 256));
        W[o + 1] = 0x20 + Math.floor(r(0, 16)); // d in [2^-7, 2^-3)
        for (let l = 0; l < 32; l++) wq[o + 2 + l] = l % 5 === 0 ? -128 : Math.floor(r(-128, 128));
      }
      const X = randomF32(M * K, 16);
      const Y = new Float32Array(M * N);
      k.q8GemmNT(M, N, K, X, K, W, 0, Y, N, true);
      const want = new Float64Array(M * N);
      const bound = new Float64Array(M * N);
      for (let m = 0; m < M; m++) {
        const { q, d } = quantizeActivations(X, m * K, K);
        for (let n = 0; n < N; n++)
          for (let blk = 0; blk < K / 32; blk++) {
            const o = (n * (K / 32) + blk) * 34;
            let sumi = 0;
            for (let l = 0; l < 32; l++) sumi += q[blk * 32 + l]! * wq[o + 2 + l]!;
            const term = sumi * fround(blockScale(W, o) * d[blk]!);
            want[m * N + n]! += term;
            bound[m * N + n]! += Math.abs(term);
          }
      }
      expect(compare(Y, want, bound).maxRel).toBeLessThanOrEqual(1e-6);
    });

    it('quantised activations round half to even, like ggml on x86', () => {
      // amax = 127 gives id = 1, so q_x = rint(x); W picks single elements with d_w = 1 (f16 0x3c00)
      const k = backend.get();
      const K = 32;
      const x = new Float32Array(K);
      const ties = [127, 2.5, 3.5, -2.5, -0.5, 0.5, 1.5, 126.5];
      ties.forEach((v, i) => (x[i] = v));
      const N = ties.length;
      const W = new Uint8Array(q8Bytes(N, K));
      for (let n = 0; n < N; n++) {
        W[n * 34] = 0x00;
        W[n * 34 + 1] = 0x3c;
        W[n * 34 + 2 + n] = 1;
      }
      for (const M of [1, 3]) {
        const X = new Float32Array(M * K);
        for (let m = 0; m < M; m++) X.set(x, m * K);
        const Y = new Float32Array(M * N);
        k.q8GemmNT(M, N, K, X, K, W, 0, Y, N, true);
        for (let m = 0; m < M; m++) expect(Array.from(Y.subarray(m * N, (m + 1) * N))).toEqual([127, 2, 4, -2, 0, 0, 2, 126]);
      }
    });

    it('quantised activations differ from f32 activations by about the 8-bit rounding (1e-4 .. 2e-2 relative)', () => {
      const k = backend.get();
      const [M, N, K] = [9, 40, 256];
      const W = new Uint8Array(q8Bytes(N, K));
      k.quantizeQ8_0(W, randomF32(N * K, 8), N, K);
      const X = randomF32(M * K, 9);
      const a = new Float32Array(M * N);
      const b = new Float32Array(M * N);
      k.q8GemmNT(M, N, K, X, K, W, 0, a, N, false);
      k.q8GemmNT(M, N, K, X, K, W, 0, b, N, true);
      const { nmse } = compare(b, a);
      expect(Math.sqrt(nmse)).toBeGreaterThan(1e-4);
      expect(Math.sqrt(nmse)).toBeLessThan(2e-2);
    });

    it('threads and the matrix-vector path give the same bits (both modes)', () => {
      const k = backend.get();
      const [M, N, K] = [37, 300, 160];
      const W = new Uint8Array(q8Bytes(N, K));
      k.quantizeQ8_0(W, randomF32(N * K, 11), N, K);
      const X = randomF32(M * K, 12);
      for (const quantizeX of [false, true]) {
        const one = new Float32Array(M * N);
        k.q8GemmNT(M, N, K, X, K, W, 0, one, N, quantizeX, 1);
        for (const threads of [2, 3]) {
          const many = new Float32Array(M * N);
          k.q8GemmNT(M, N, K, X, K, W, 0, many, N, quantizeX, threads);
          expect(Buffer.from(many.buffer).equals(Buffer.from(one.buffer)), `quantizeX ${quantizeX}, ${threads} threads`).toBe(true);
        }
        // single rows (the matrix-vector path): identical in the integer mode, same within f32 rounding otherwise
        const r = rng(13);
        for (let t = 0; t < 3; t++) {
          const m = Math.floor(r(0, M));
          const row = new Float32Array(N);
          k.q8GemmNT(1, N, K, X.subarray(m * K, (m + 1) * K), K, W, 0, row, N, quantizeX, 2);
          const batched = one.subarray(m * N, (m + 1) * N);
          if (quantizeX) expect(Buffer.from(row.buffer).equals(Buffer.from(batched.slice().buffer))).toBe(true);
          else expect(compare(row, batched).nmse).toBeLessThan(1e-12);
        }
      }
      const dY = randomF32(M * N, 14);
      const dX1 = new Float32Array(M * K);
      const dX2 = new Float32Array(M * K);
      k.q8GemmNN(M, N, K, dY, N, W, 0, dX1, K, 1);
      k.q8GemmNN(M, N, K, dY, N, W, 0, dX2, K, 2);
      expect(Buffer.from(dX1.buffer).equals(Buffer.from(dX2.buffer))).toBe(true);
    });

    it('rejects K that is not a multiple of 32 and a short weight buffer', () => {
      const k = backend.get();
      const X = new Float32Array(40);
      expect(() => k.q8GemmNT(1, 1, 40, X, 40, new Uint8Array(68), 0, new Float32Array(1), 1, false)).toThrow(/K must be a multiple of 32/);
      expect(() => k.q8GemmNT(1, 2, 32, X, 32, new Uint8Array(34), 0, new Float32Array(2), 2, true)).toThrow(/W has 34 bytes, needs 68/);
      expect(() => k.quantizeQ8_0(new Uint8Array(34), X, 1, 40)).toThrow(/cols must be a multiple of 32/);
    });
  });
}
