/**
 * The compute-kernel API shared by the C++ addon (native/) and the TypeScript fallback (./ts/).
 * Flat buffers plus explicit dims, llm.c style: every shape is stated next to its argument.
 * Backward kernels ACCUMULATE (+=) into their gradient buffers; callers zero them explicitly.
 * `threads` is always explicit (the validated front in index.ts defaults it to 1).
 * Q8_0 is ggml's block_q8_0: per 32 values one f16 scale d then 32 int8 q (34 bytes); value = d * q.
 */

export type Isa = 'avx512' | 'avx2' | 'scalar';
export const ISAS: readonly Isa[] = ['avx512', 'avx2', 'scalar'];

export interface BackendInfo {
  backend: 'native' | 'ts';
  /** Instruction-set path of the native kernels; 'js' for the fallback. */
  isa: Isa | 'js';
  /** The Q8 x Q8 product uses AVX-512 VNNI. */
  vnni: boolean;
  /** CPU features the addon detected (empty for the fallback). */
  features: Record<string, boolean>;
}

export interface KernelBackend {
  readonly name: 'native' | 'ts';
  info(): BackendInfo;

  /**
   * C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C   (beta = 0: C is not read)
   * A: transA ? [K, lda] (op(A)[i][k] = A[k*lda+i]) : [M, lda];  B: transB ? [N, ldb] : [K, ldb];  C: [M, ldc]
   */
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number,
    threads: number,
  ): void;
  /**
   * Y[M,N] = X[M,K] · W^T + beta * Y, with W Q8_0 [N,K] (K a multiple of 32). X: [M, ldx], Y: [M, ldy].
   * quantizeX = false: f32 activations times the dequantised weights.
   * quantizeX = true: X is first quantised to Q8_0 per row block (llama.cpp's CPU path) and the
   * product is sum_b d_w*d_x*sum(q_w*q_x).
   */
  q8GemmNT(
    M: number, N: number, K: number, X: Float32Array, ldx: number, W: Uint8Array, beta: number,
    Y: Float32Array, ldy: number, quantizeX: boolean, threads: number,
  ): void;
  /** dX[M,K] = dY[M,N] · W + beta * dX, with W Q8_0 [N,K]. dY: [M, lddy], dX: [M, lddx]. */
  q8GemmNN(
    M: number, N: number, K: number, dY: Float32Array, lddy: number, W: Uint8Array, beta: number,
    dX: Float32Array, lddx: number, threads: number,
  ): void;
  /** dst: Q8_0 [rows, cols] (rows*cols/32*34 bytes) from src [rows, cols], as ggml's quantize_row_q8_0_ref. */
  quantizeQ8_0(dst: Uint8Array, src: Float32Array, rows: number, cols: number): void;
  /** dst[rows, cols] = d * q of src Q8_0 [rows, cols]. */
  dequantizeQ8_0(dst: Float32Array, src: Uint8Array, rows: number, cols: number): void;

  /** out[N,C] = inp * rstd * weight[C]; rstd[N] = 1/sqrt(mean(inp^2) + eps). */
  rmsnormForward(
    out: Float32Array, rstd: Float32Array, inp: Float32Array, weight: Float32Array, N: number, C: number, eps: number,
    threads: number,
  ): void;
  /** dinp[N,C] +=, dweight[C] += (null: frozen weight); dout, inp [N,C]; weight [C]; rstd [N] from the forward. */
  rmsnormBackward(
    dinp: Float32Array, dweight: Float32Array | null, dout: Float32Array, inp: Float32Array, weight: Float32Array,
    rstd: Float32Array, N: number, C: number, threads: number,
  ): void;
  /**
   * out[rows, cols] = softmax(scale * inp) per row; out may alias inp. causal: row r is query
   * i = r % queryLen and sees columns j <= i + (cols - queryLen); masked entries are 0.
   */
  softmaxForward(
    out: Float32Array, inp: Float32Array, rows: number, cols: number, scale: number, causal: boolean,
    queryLen: number, threads: number,
  ): void;
  /** dinp[rows, cols] += scale * out * (dout - sum(out * dout)) */
  softmaxBackward(
    dinp: Float32Array, dout: Float32Array, out: Float32Array, rows: number, cols: number, scale: number,
    threads: number,
  ): void;
  /** out[n] = x * sigmoid(x) */
  siluForward(out: Float32Array, inp: Float32Array, n: number, threads: number): void;
  /** dinp[n] += dout * silu'(inp) */
  siluBackward(dinp: Float32Array, dout: Float32Array, inp: Float32Array, n: number, threads: number): void;
  /** out[n] = silu(gate) * up */
  swigluForward(out: Float32Array, gate: Float32Array, up: Float32Array, n: number, threads: number): void;
  /** dgate[n] += dout * up * silu'(gate);  dup[n] += dout * silu(gate) */
  swigluBackward(
    dgate: Float32Array, dup: Float32Array, dout: Float32Array, gate: Float32Array, up: Float32Array, n: number,
    threads: number,
  ): void;
  /**
   * out[T, nHead, headDim] = RoPE(inp) at positions pos[T] (out may alias inp). The first nRot dims
   * of every head rotate by theta_i = freqScale * pos * base^(-2i/nRot) (computed as ggml does:
   * theta *= base^(-2/nRot) in f32); neox = false pairs (2i, 2i+1) (llama), true pairs (i, i + nRot/2)
   * (qwen2). Dims past nRot are copied.
   */
  ropeForward(
    out: Float32Array, inp: Float32Array, pos: Int32Array, T: number, nHead: number, headDim: number, nRot: number,
    base: number, freqScale: number, neox: boolean, threads: number,
  ): void;
  /** dinp[T, nHead, headDim] += RoPE^T(dout) (rotation by -theta) */
  ropeBackward(
    dinp: Float32Array, dout: Float32Array, pos: Int32Array, T: number, nHead: number, headDim: number, nRot: number,
    base: number, freqScale: number, neox: boolean, threads: number,
  ): void;
  /** out[n] = a + b */
  add(out: Float32Array, a: Float32Array, b: Float32Array, n: number, threads: number): void;
  /** out[n] = s * inp */
  scale(out: Float32Array, inp: Float32Array, s: number, n: number, threads: number): void;
  /** y[n] += alpha * x */
  axpy(y: Float32Array, alpha: number, x: Float32Array, n: number, threads: number): void;
  /**
   * logits [T, V], targets [T] (< 0: not counted). losses[T] = logsumexp(row) - row[target] (0 when
   * not counted); dlogits [T, V] (null: skip; may alias logits) = (softmax(row) - onehot) * dscale,
   * rows not counted are 0. Returns the sum of the counted losses.
   */
  crossEntropy(
    losses: Float32Array, dlogits: Float32Array | null, logits: Float32Array, targets: Int32Array, T: number,
    V: number, dscale: number, threads: number,
  ): number;
  /**
   * PyTorch AdamW on param/grad/m/v [n]: g = grad * gradScale; param *= 1 - lr*weightDecay;
   * m, v updated; param -= lr/(1-beta1^step) * m / (sqrt(v)/sqrt(1-beta2^step) + eps). step >= 1.
   */
  adamw(
    param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, n: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, step: number, gradScale: number, threads: number,
  ): void;
}

/** Bytes of a Q8_0 matrix [rows, cols]. */
export function q8Bytes(rows: number, cols: number): number {
  return rows * (cols / 32) * 34;
}
