/** The pure-TypeScript kernel backend: same API as the addon, single-threaded (threads is accepted and ignored). */
import type { BackendInfo, KernelBackend } from '../api.js';
import { sgemm } from './gemm.js';
import { dequantizeQ8_0, q8GemmNN, q8GemmNT, quantizeQ8_0 } from './q8.js';
import * as rows from './rows.js';

export const tsBackend: KernelBackend = {
  name: 'ts',
  info(): BackendInfo {
    return { backend: 'ts', isa: 'js', vnni: false, features: {} };
  },
  sgemm: (tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) => sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc),
  q8GemmNT: (M, N, K, X, ldx, W, beta, Y, ldy, quantizeX) => q8GemmNT(M, N, K, X, ldx, W, beta, Y, ldy, quantizeX),
  q8GemmNN: (M, N, K, dY, lddy, W, beta, dX, lddx) => q8GemmNN(M, N, K, dY, lddy, W, beta, dX, lddx),
  quantizeQ8_0,
  dequantizeQ8_0,
  rmsnormForward: (out, rstd, inp, weight, N, C, eps) => rows.rmsnormForward(out, rstd, inp, weight, N, C, eps),
  rmsnormBackward: (dinp, dweight, dout, inp, weight, rstd, N, C) => rows.rmsnormBackward(dinp, dweight, dout, inp, weight, rstd, N, C),
  softmaxForward: (out, inp, r, c, s, causal, q) => rows.softmaxForward(out, inp, r, c, s, causal, q),
  softmaxBackward: (dinp, dout, out, r, c, s) => rows.softmaxBackward(dinp, dout, out, r, c, s),
  siluForward: (out, inp, n) => rows.siluForward(out, inp, n),
  siluBackward: (dinp, dout, inp, n) => rows.siluBackward(dinp, dout, inp, n),
  swigluForward: (out, gate, up, n) => rows.swigluForward(out, gate, up, n),
  swigluBackward: (dg, du, dout, gate, up, n) => rows.swigluBackward(dg, du, dout, gate, up, n),
  ropeForward: (out, inp, pos, T, H, D, nRot, base, fs, neox) => rows.ropeForward(out, inp, pos, T, H, D, nRot, base, fs, neox),
  ropeBackward: (dinp, dout, pos, T, H, D, nRot, base, fs, neox) => rows.ropeBackward(dinp, dout, pos, T, H, D, nRot, base, fs, neox),
  add: (out, a, b, n) => rows.add(out, a, b, n),
  scale: (out, inp, s, n) => rows.scale(out, inp, s, n),
  axpy: (y, alpha, x, n) => rows.axpy(y, alpha, x, n),
  crossEntropy: (losses, dlogits, logits, targets, T, V, dscale) => rows.crossEntropy(losses, dlogits, logits, targets, T, V, dscale),
  adamw: (p, g, m, v, n, lr, b1, b2, eps, wd, step, gs) => rows.adamw(p, g, m, v, n, lr, b1, b2, eps, wd, step, gs),
};
