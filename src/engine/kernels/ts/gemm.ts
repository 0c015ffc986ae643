/**
 * Reference GEMM in TypeScript: the fallback when the addon cannot load. Accumulates in float64,
 * so it is at least as accurate as the native kernels (and far slower).
 */

/** C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C; shapes as in KernelBackend.sgemm. */
export function sgemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number,
): void {
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    if (!transB) {
      // acc += a[i,k] * B[k, :]: both rows contiguous
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * lda + i]! : A[i * lda + k]!;
        const row = k * ldb;
        for (let j = 0; j < N; j++) acc[j]! += a * B[row + j]!;
      }
    } else {
      // acc[j] = dot(op(A)[i, :], B[j, :])
      for (let j = 0; j < N; j++) {
        const row = j * ldb;
        let s = 0;
        if (transA) for (let k = 0; k < K; k++) s += A[k * lda + i]! * B[row + k]!;
        else {
          const arow = i * lda;
          for (let k = 0; k < K; k++) s += A[arow + k]! * B[row + k]!;
        }
        acc[j] = s;
      }
    }
    storeRow(C, i * ldc, acc, N, alpha, beta);
  }
}

/** C[off + j] = alpha * acc[j] + beta * C[off + j] (C not read when beta = 0). */
export function storeRow(C: Float32Array, off: number, acc: Float64Array, N: number, alpha: number, beta: number): void {
  if (beta === 0) for (let j = 0; j < N; j++) C[off + j] = alpha * acc[j]!;
  else for (let j = 0; j < N; j++) C[off + j] = alpha * acc[j]! + beta * C[off + j]!;
}
