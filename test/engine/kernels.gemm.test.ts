/**
 * f32 GEMM on every backend (TypeScript fallback, addon on each ISA path) against a float64 naive
 * reference. Tolerance: for every element, |C - C_ref| <= 1e-5 * (|alpha| sum_k |a_ik b_kj| + |beta c_ij|)
 * (the f32 accumulation error bound, with margin), and NMSE <= 1e-12.
 */
import { describe, expect, it } from 'vitest';
import { backendCases, checkGradient, compare, randomF32, weightedSum } from './kernels.helpers.js';

const REL_TOL = 1e-5;
const NMSE_TOL = 1e-12;

/** C = alpha op(A) op(B) + beta C0 in float64, and the per-element magnitude bound. */
function reference(
  tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, lda: number,
  B: Float32Array, ldb: number, beta: number, C0: Float32Array, ldc: number,
): { want: Float64Array; bound: Float64Array } {
  const want = new Float64Array(M * N);
  const bound = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      let b = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[k * lda + i]! : A[i * lda + k]!;
        const w = tB ? B[j * ldb + k]! : B[k * ldb + j]!;
        s += a * w;
        b += Math.abs(a * w);
      }
      const c = beta === 0 ? 0 : beta * C0[i * ldc + j]!;
      want[i * N + j] = alpha * s + c;
      bound[i * N + j] = Math.abs(alpha) * b + Math.abs(c) + 1e-30;
    }
  return { want, bound };
}

function unpack(C: Float32Array, M: number, N: number, ldc: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[i * N + j] = C[i * ldc + j]!;
  return out;
}

// odd shapes: M = 1 (matrix-vector), sizes that are not multiples of any register tile, K past the
// 256-deep K block, M past the row block (168 / 144 rows), N past the 2048-column block
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 37, 50], [1, 70, 300], [2, 3, 5], [3, 5, 7], [13, 17, 19], [15, 33, 65], [29, 70, 300],
  [170, 45, 40], [5, 2100, 9],
];
const SCALARS: Array<[number, number]> = [[1, 0], [0.5, 1], [-1.5, 0.25]];

for (const backend of backendCases()) {
  describe(`sgemm on ${backend.label}`, () => {
    for (const [tA, tB] of [[false, true], [false, false], [true, false], [true, true]] as const) {
      it(`op(A)=${tA ? 'A^T' : 'A'}, op(B)=${tB ? 'B^T' : 'B'}: odd shapes and strides match the float64 reference`, () => {
        const k = backend.get();
        SHAPES.forEach(([M, N, K], index) => {
          const [alpha, beta] = SCALARS[index % SCALARS.length]!;
          const lda = (tA ? M : K) + 3;
          const ldb = (tB ? K : N) + 1;
          const ldc = N + 2;
          const A = randomF32((tA ? K : M) * lda, 10 + index);
          const B = randomF32((tB ? N : K) * ldb, 20 + index);
          const C0 = randomF32(M * ldc, 30 + index);
          const C = Float32Array.from(C0);
          k.sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
          const { want, bound } = reference(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc);
          const { maxRel, nmse } = compare(unpack(C, M, N, ldc), want, bound);
          expect(maxRel, `${M}x${N}x${K} alpha ${alpha} beta ${beta}`).toBeLessThanOrEqual(REL_TOL);
          expect(nmse, `${M}x${N}x${K}`).toBeLessThanOrEqual(NMSE_TOL);
          // the padding between rows of C is never written
          for (let i = 0; i < M; i++) for (let j = N; j < ldc; j++) expect(C[i * ldc + j]).toBe(C0[i * ldc + j]);
        });
      });
    }

    it('beta = 0 does not read C (NaN in C does not leak); K = 0 scales C by beta', () => {
      const k = backend.get();
      const [M, N, K] = [9, 21, 33];
      const A = randomF32(M * K, 1);
      const B = randomF32(N * K, 2);
      const C = new Float32Array(M * N).fill(NaN);
      k.sgemm(false, true, M, N, K, 1, A, K, B, K, 0, C, N, 1);
      expect(C.every(Number.isFinite)).toBe(true);
      const C2 = randomF32(M * N, 3);
      const before = Float32Array.from(C2);
      k.sgemm(false, true, M, N, 0, 1, A, 1, B, 1, 0.5, C2, N, 1);
      for (let i = 0; i < C2.length; i++) expect(C2[i]).toBe(Math.fround(before[i]! * 0.5));
    });

    it('matmulNT / matmulNN / matmulTN are Y = X W^T, dX = dY W and dW = dY^T X, with accumulate', () => {
      const k = backend.get();
      const [M, N, K] = [11, 7, 13]; // X [M,K], W [N,K], Y [M,N]
      const X = randomF32(M * K, 4);
      const W = randomF32(N * K, 5);
      const dY = randomF32(M * N, 6);
      const Y = new Float32Array(M * N);
      k.matmulNT(Y, X, W, M, N, K);
      const dX = new Float32Array(M * K).fill(1);
      k.matmulNN(dX, dY, W, M, K, N, true);
      const dW = new Float32Array(N * K);
      k.matmulTN(dW, dY, X, N, K, M);
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let j = 0; j < K; j++) s += X[m * K + j]! * W[n * K + j]!;
          expect(Y[m * N + n]).toBeCloseTo(s, 5);
        }
      for (let m = 0; m < M; m++)
        for (let j = 0; j < K; j++) {
          let s = 1;
          for (let n = 0; n < N; n++) s += dY[m * N + n]! * W[n * K + j]!;
          expect(dX[m * K + j]).toBeCloseTo(s, 5);
        }
      for (let n = 0; n < N; n++)
        for (let j = 0; j < K; j++) {
          let s = 0;
          for (let m = 0; m < M; m++) s += dY[m * N + n]! * X[m * K + j]!;
          expect(dW[n * K + j]).toBeCloseTo(s, 5);
        }
    });

    it('the linear layer backward (dX = dY W, dW = dY^T X) agrees with finite differences', () => {
      // loss = sum(R * (X W^T)); eps 1e-2, at most 40 elements per tensor, |a - n| <= 2e-3 + 1e-3 |n|
      const k = backend.get();
      const [M, N, K] = [5, 7, 9];
      const X = randomF32(M * K, 7);
      const W = randomF32(N * K, 8);
      const R = randomF32(M * N, 9);
      const Y = new Float32Array(M * N);
      const loss = (): number => {
        k.matmulNT(Y, X, W, M, N, K);
        return weightedSum(Y, R);
      };
      const dX = new Float32Array(M * K);
      const dW = new Float32Array(N * K);
      k.matmulNN(dX, R, W, M, K, N);
      k.matmulTN(dW, R, X, N, K, M);
      const opts = { eps: 1e-2, maxChecks: 40, abs: 2e-3, rel: 1e-3 };
      for (const [x, g] of [[X, dX], [W, dW]] as const) {
        const r = checkGradient(x, g, loss, opts);
        expect(r.failures).toEqual([]);
        expect(r.checked).toBeGreaterThanOrEqual(30);
      }
    });

    it('several threads give exactly the single-thread result (column, row and matrix-vector splits)', () => {
      const k = backend.get();
      const cases: Array<[boolean, boolean, number, number, number]> = [
        [false, true, 64, 200, 96], // split over N
        [false, false, 300, 20, 70], // split over M
        [true, false, 45, 130, 260],
        [false, true, 1, 500, 64], // matrix-vector
        [false, false, 1, 333, 40],
      ];
      for (const [tA, tB, M, N, K] of cases) {
        const lda = tA ? M : K;
        const ldb = tB ? K : N;
        const A = randomF32((tA ? K : M) * lda, M);
        const B = randomF32((tB ? N : K) * ldb, N);
        const one = new Float32Array(M * N);
        k.sgemm(tA, tB, M, N, K, 1, A, lda, B, ldb, 0, one, N, 1);
        for (const threads of [2, 3]) {
          const many = new Float32Array(M * N);
          k.sgemm(tA, tB, M, N, K, 1, A, lda, B, ldb, 0, many, N, threads);
          expect(Buffer.from(many.buffer).equals(Buffer.from(one.buffer)), `${M}x${N}x${K}, ${threads} threads`).toBe(true);
        }
      }
    });

    it('rejects bad dims and short buffers with a message naming the argument', () => {
      const k = backend.get();
      const A = new Float32Array(6); // [2, 3]
      const B = new Float32Array(9); // [3, 3]
      expect(() => k.sgemm(false, true, 2, 3, 3, 1, A, 3, B, 3, 0, new Float32Array(5), 3)).toThrow(/sgemm: C has 5 elements, needs 6/);
      expect(() => k.sgemm(false, true, 2, 3, 3, 1, A, 3, A, 3, 0, new Float32Array(6), 3)).toThrow(/sgemm: B has 6 elements, needs 9/);
      expect(() => k.sgemm(false, true, 2, 3, 3, 1, A, 2, B, 3, 0, new Float32Array(6), 3)).toThrow(/sgemm: lda must be an integer >= 3/);
      expect(() => k.sgemm(false, true, 2.5, 3, 3, 1, A, 3, B, 3, 0, new Float32Array(6), 3)).toThrow(/sgemm: M must be an integer/);
      expect(() => k.sgemm(false, true, 2, 3, 3, 1, A, 3, B, 3, 0, new Float32Array(6), 3, 0)).toThrow(/threads must be an integer >= 1/);
    });
  });
}

describe('native thread pool', () => {
  it('survives many back-to-back calls with changing thread counts (workers joining mid-stream)', () => {
    for (const backend of backendCases().filter((c) => c.native)) {
      const k = backend.get();
      const [M, N, K] = [40, 96, 32];
      const A = randomF32(M * K, 1);
      const B = randomF32(N * K, 2);
      const want = new Float32Array(M * N);
      k.matmulNT(want, A, B, M, N, K);
      const C = new Float32Array(M * N);
      for (let i = 0; i < 300; i++) {
        k.matmulNT(C, A, B, M, N, K, false, 1 + (i % 5));
        if (i % 50 === 0) expect(Buffer.from(C.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      }
    }
  });
});

describe('native argument checks (a call that bypasses the TypeScript front)', () => {
  it('the addon itself refuses a short output buffer instead of writing past it', () => {
    const native = backendCases().find((c) => c.native);
    if (!native) return; // FINESEC_KERNELS=ts: the fallback-only run has no addon to call
    const raw = native.get().backend;
    const A = new Float32Array(6);
    const B = new Float32Array(9);
    expect(() => raw.sgemm(false, true, 2, 3, 3, 1, A, 3, B, 3, 0, new Float32Array(5), 3, 1)).toThrow(/sgemm: argument 11: Float32Array of at least 6 elements/);
    expect(() => raw.sgemm(false, true, 2, 3, 3, 1, A, 3, new Float64Array(9) as unknown as Float32Array, 3, 0, new Float32Array(6), 3, 1)).toThrow(
      /Float32Array expected/,
    );
  });
});
