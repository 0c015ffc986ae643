/**
 * Row and elementwise kernels on every backend: forwards against float64 references written here,
 * backwards against central finite differences of a weighted-sum loss (eps 1e-2 in input units,
 * at most 48 elements per tensor, |analytic - numeric| <= 2e-3 + 2e-3 |numeric|, kinks skipped),
 * and thread counts that must not change a single bit.
 */
import { describe, expect, it } from 'vitest';
import { backendCases, checkGradient, compare, randomF32, weightedSum, type GradCheckOptions } from './kernels.helpers.js';

const FD: GradCheckOptions = { eps: 1e-2, maxChecks: 48, abs: 2e-3, rel: 2e-3 };
const FWD_TOL = 2e-6; // max |got - want| / max(|want|, 1e-3) for forwards

function expectGrad(x: Float32Array, analytic: ArrayLike<number>, loss: () => number, label: string): void {
  const r = checkGradient(x, analytic, loss, FD);
  expect(r.failures, label).toEqual([]);
  expect(r.checked, `${label}: points compared`).toBeGreaterThanOrEqual(Math.min(x.length, FD.maxChecks) * 0.75);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string, tol = FWD_TOL): void {
  const floor = new Float64Array(want.length).map((_, i) => Math.max(Math.abs(want[i]!), 1e-3));
  expect(compare(got, want, floor).maxRel, label).toBeLessThanOrEqual(tol);
}

/** ggml's angles: theta_scale = base^(-2/nRot) in f32, theta *= theta_scale per pair, in f32. */
function ggmlAngles(pos: number, nRot: number, base: number, freqScale: number): number[] {
  const f = Math.fround;
  const scale = f(Math.pow(base, f(-2 / nRot)));
  let theta = f(pos);
  const out: number[] = [];
  for (let i = 0; i < nRot / 2; i++) {
    out.push(f(f(freqScale) * theta));
    theta = f(theta * scale);
  }
  return out;
}

for (const backend of backendCases()) {
  describe(`row kernels on ${backend.label}`, () => {
    it('rmsnorm forward matches float64; backward (dinp, dweight, accumulating) matches finite differences', () => {
      const k = backend.get();
      const [N, C, eps] = [5, 24, 1e-5];
      const x = randomF32(N * C, 1, -2, 2);
      const w = randomF32(C, 2, 0.5, 1.5);
      const out = new Float32Array(N * C);
      const rstd = new Float32Array(N);
      k.rmsnormForward(out, rstd, x, w, N, C, eps);
      const want = new Float64Array(N * C);
      for (let r = 0; r < N; r++) {
        let ss = 0;
        for (let i = 0; i < C; i++) ss += x[r * C + i]! ** 2;
        const s = 1 / Math.sqrt(ss / C + eps);
        expect(rstd[r]).toBeCloseTo(s, 5);
        for (let i = 0; i < C; i++) want[r * C + i] = x[r * C + i]! * s * w[i]!;
      }
      expectClose(out, want, 'forward');

      const R = randomF32(N * C, 3);
      const loss = (): number => {
        k.rmsnormForward(out, rstd, x, w, N, C, eps);
        return weightedSum(out, R);
      };
      loss();
      const dx = new Float32Array(N * C);
      const dw = new Float32Array(C);
      k.rmsnormBackward(dx, dw, R, x, w, rstd, N, C);
      expectGrad(x, dx, loss, 'dinp');
      expectGrad(w, dw, loss, 'dweight');
      // gradients accumulate into what is already there; a null dweight (frozen) leaves dinp as is
      const dxMore = new Float32Array(N * C).fill(0.25);
      const dwMore = new Float32Array(C).fill(-0.5);
      k.rmsnormBackward(dxMore, dwMore, R, x, w, rstd, N, C);
      dxMore.forEach((v, i) => expect(Math.abs(v - (0.25 + dx[i]!))).toBeLessThan(1e-6));
      dwMore.forEach((v, i) => expect(Math.abs(v - (dw[i]! - 0.5))).toBeLessThan(1e-6));
      const dxFrozen = new Float32Array(N * C);
      k.rmsnormBackward(dxFrozen, null, R, x, w, rstd, N, C);
      expect(Array.from(dxFrozen)).toEqual(Array.from(dx));
    });

    it('softmax forward (scale, causal mask with a key offset, fully masked rows) matches float64', () => {
      const k = backend.get();
      for (const [rows, cols, queryLen, causal] of [[6, 9, 3, true], [4, 4, 4, true], [5, 7, 5, false], [3, 2, 3, true]] as const) {
        const x = randomF32(rows * cols, rows * cols, -3, 3);
        const scale = 0.7;
        const out = new Float32Array(rows * cols).fill(NaN);
        k.softmaxForward(out, x, rows, cols, scale, causal, queryLen);
        const want = new Float64Array(rows * cols);
        for (let r = 0; r < rows; r++) {
          const valid = causal ? Math.min(cols, Math.max(0, (r % queryLen) + cols - queryLen + 1)) : cols;
          let max = -Infinity;
          for (let j = 0; j < valid; j++) max = Math.max(max, scale * x[r * cols + j]!);
          let sum = 0;
          for (let j = 0; j < valid; j++) sum += Math.exp(scale * x[r * cols + j]! - max);
          for (let j = 0; j < valid; j++) want[r * cols + j] = Math.exp(scale * x[r * cols + j]! - max) / sum;
        }
        expectClose(out, want, `${rows}x${cols} q${queryLen} causal ${causal}`);
        // in place gives the same bits
        const inPlace = Float32Array.from(x);
        k.softmaxForward(inPlace, inPlace, rows, cols, scale, causal, queryLen);
        expect(Array.from(inPlace)).toEqual(Array.from(out));
      }
    });

    it('softmax backward matches finite differences (causal, scaled)', () => {
      const k = backend.get();
      const [rows, cols, queryLen, scale] = [4, 6, 4, 0.8];
      const x = randomF32(rows * cols, 4, -2, 2);
      const R = randomF32(rows * cols, 5);
      const out = new Float32Array(rows * cols);
      const loss = (): number => {
        k.softmaxForward(out, x, rows, cols, scale, true, queryLen);
        return weightedSum(out, R);
      };
      loss();
      const dx = new Float32Array(rows * cols);
      k.softmaxBackward(dx, R, out, rows, cols, scale);
      expectGrad(x, dx, loss, 'softmax dinp');
    });

    it('silu and swiglu: forwards match float64, backwards match finite differences', () => {
      const k = backend.get();
      const n = 40;
      const g = randomF32(n, 6, -4, 4);
      const u = randomF32(n, 7, -2, 2);
      const R = randomF32(n, 8);
      const out = new Float32Array(n);
      k.siluForward(out, g, n);
      expectClose(out, Array.from(g, (v) => v / (1 + Math.exp(-v))), 'silu');
      k.swigluForward(out, g, u, n);
      expectClose(out, Array.from(g, (v, i) => (v / (1 + Math.exp(-v))) * u[i]!), 'swiglu');

      const siluLoss = (): number => {
        k.siluForward(out, g, n);
        return weightedSum(out, R);
      };
      const dg = new Float32Array(n);
      k.siluBackward(dg, R, g, n);
      expectGrad(g, dg, siluLoss, 'silu dinp');

      const swigluLoss = (): number => {
        k.swigluForward(out, g, u, n);
        return weightedSum(out, R);
      };
      const dgate = new Float32Array(n);
      const dup = new Float32Array(n);
      k.swigluBackward(dgate, dup, R, g, u, n);
      expectGrad(g, dgate, swigluLoss, 'swiglu dgate');
      expectGrad(u, dup, swigluLoss, 'swiglu dup');
    });

    it('rope rotates (2i, 2i+1) for llama and (i, i+nRot/2) for neox, copies dims past nRot', () => {
      const k = backend.get();
      const [T, H, D, nRot, base] = [3, 2, 10, 8, 10000];
      const pos = Int32Array.from([0, 5, 17]);
      for (const neox of [false, true]) {
        const x = randomF32(T * H * D, 9);
        const out = new Float32Array(T * H * D);
        k.ropeForward(out, x, pos, T, H, D, nRot, base, 1, neox);
        const want = new Float64Array(T * H * D);
        for (let t = 0; t < T; t++) {
          const theta = ggmlAngles(pos[t]!, nRot, base, 1);
          for (let h = 0; h < H; h++) {
            const o = (t * H + h) * D;
            for (let i = 0; i < nRot / 2; i++) {
              const a = o + (neox ? i : 2 * i);
              const b = o + (neox ? i + nRot / 2 : 2 * i + 1);
              want[a] = x[a]! * Math.cos(theta[i]!) - x[b]! * Math.sin(theta[i]!);
              want[b] = x[a]! * Math.sin(theta[i]!) + x[b]! * Math.cos(theta[i]!);
            }
            for (let i = nRot; i < D; i++) want[o + i] = x[o + i]!;
          }
        }
        expectClose(out, want, `neox ${neox}`);
        // a unit vector in dim 0 at position 5 lands in dim 1 (llama) or dim nRot/2 (neox)
        const unit = new Float32Array(D);
        unit[0] = 1;
        const rotated = new Float32Array(D);
        k.ropeForward(rotated, unit, Int32Array.from([5]), 1, 1, D, nRot, base, 1, neox);
        expect(rotated[neox ? nRot / 2 : 1]).toBeCloseTo(Math.sin(5), 6);
        expect(rotated[0]).toBeCloseTo(Math.cos(5), 6);
        // in place, and the inverse rotation (backward into zeros) undoes it
        const inPlace = Float32Array.from(x);
        k.ropeForward(inPlace, inPlace, pos, T, H, D, nRot, base, 1, neox);
        expect(Array.from(inPlace)).toEqual(Array.from(out));
        const back = new Float32Array(T * H * D);
        k.ropeBackward(back, out, pos, T, H, D, nRot, base, 1, neox);
        expectClose(back, x, 'backward(forward(x)) = x', 1e-5);
      }
      // ggml's f32 recurrence stays close to the exact angles pos * base^(-2i/nRot) at these positions
      const exact = Array.from({ length: 32 }, (_, i) => 100 * Math.pow(10000, (-2 * i) / 64));
      ggmlAngles(100, 64, 10000, 1).forEach((v, i) => expect(Math.abs(v - exact[i]!)).toBeLessThan(1e-3));
    });

    it('rope backward matches finite differences (both orderings, freqScale 0.5)', () => {
      const k = backend.get();
      const [T, H, D, nRot] = [2, 2, 8, 6];
      const pos = Int32Array.from([3, 11]);
      for (const neox of [false, true]) {
        const x = randomF32(T * H * D, 10);
        const R = randomF32(T * H * D, 11);
        const out = new Float32Array(T * H * D);
        const dx = new Float32Array(T * H * D);
        k.ropeBackward(dx, R, pos, T, H, D, nRot, 1e4, 0.5, neox);
        expectGrad(x, dx, () => {
          k.ropeForward(out, x, pos, T, H, D, nRot, 1e4, 0.5, neox);
          return weightedSum(out, R);
        }, `rope neox ${neox}`);
      }
    });

    it('add, scale and axpy', () => {
      const k = backend.get();
      const n = 33;
      const a = randomF32(n, 12);
      const b = randomF32(n, 13);
      const out = new Float32Array(n);
      k.add(out, a, b, n);
      expect(Array.from(out)).toEqual(Array.from(a, (v, i) => Math.fround(v + b[i]!)));
      k.scale(out, a, 0.3, n);
      expect(Array.from(out)).toEqual(Array.from(a, (v) => Math.fround(Math.fround(0.3) * v)));
      const y = Float32Array.from(b);
      k.axpy(y, -2, a, n);
      expectClose(y, Array.from(b, (v, i) => v - 2 * a[i]!), 'axpy');
    });

    it('cross-entropy: losses match float64, dlogits match finite differences, masked rows are 0, in place works', () => {
      const k = backend.get();
      const [T, V] = [5, 11];
      const logits = randomF32(T * V, 14, -3, 3);
      const targets = Int32Array.from([3, -1, 0, 10, 7]);
      const losses = new Float32Array(T);
      const dlogits = new Float32Array(T * V);
      const dscale = 1 / 4; // four counted rows
      const sum = k.crossEntropy(losses, dlogits, logits, targets, T, V, dscale);
      let wantSum = 0;
      for (let t = 0; t < T; t++) {
        if (targets[t]! < 0) {
          expect(losses[t]).toBe(0);
          expect(dlogits.subarray(t * V, (t + 1) * V).every((v) => v === 0)).toBe(true);
          continue;
        }
        let max = -Infinity;
        for (let j = 0; j < V; j++) max = Math.max(max, logits[t * V + j]!);
        let z = 0;
        for (let j = 0; j < V; j++) z += Math.exp(logits[t * V + j]! - max);
        const want = Math.log(z) + max - logits[t * V + targets[t]!]!;
        expect(Math.abs(losses[t]! - want)).toBeLessThan(1e-5 * Math.max(1, want));
        wantSum += want;
      }
      expect(Math.abs(sum - wantSum)).toBeLessThan(1e-5 * wantSum);
      const meanLoss = (): number => {
        const l = new Float32Array(T);
        return k.crossEntropy(l, null, logits, targets, T, V, 0) * dscale;
      };
      expectGrad(logits, dlogits, meanLoss, 'dlogits');
      const inPlace = Float32Array.from(logits);
      const sum2 = k.crossEntropy(new Float32Array(T), inPlace, inPlace, targets, T, V, dscale);
      expect(sum2).toBe(sum);
      expect(Array.from(inPlace)).toEqual(Array.from(dlogits));
      expect(() => k.crossEntropy(losses, null, logits, Int32Array.from([0, 0, 11, 0, 0]), T, V, 1)).toThrow(/targets\[2\] = 11 is not below V = 11/);
    });

    it('adamw follows PyTorch AdamW over three steps', () => {
      const k = backend.get();
      const n = 20;
      const p = randomF32(n, 15);
      const m = new Float32Array(n);
      const v = new Float32Array(n);
      const wantP = Float64Array.from(p);
      const wantM = new Float64Array(n);
      const wantV = new Float64Array(n);
      const [lr, b1, b2, eps, wd, gradScale] = [1e-2, 0.9, 0.999, 1e-8, 0.1, 0.5];
      for (let step = 1; step <= 3; step++) {
        const g = randomF32(n, 100 + step);
        k.adamw(p, g, m, v, n, lr, b1, b2, eps, wd, step, gradScale);
        for (let i = 0; i < n; i++) {
          const gi = g[i]! * gradScale;
          wantP[i] = wantP[i]! * (1 - lr * wd);
          wantM[i] = b1 * wantM[i]! + (1 - b1) * gi;
          wantV[i] = b2 * wantV[i]! + (1 - b2) * gi * gi;
          const mhat = wantM[i]! / (1 - b1 ** step);
          const vhat = wantV[i]! / (1 - b2 ** step);
          wantP[i] = wantP[i]! - (lr * mhat) / (Math.sqrt(vhat) + eps);
        }
      }
      expectClose(p, wantP, 'param', 1e-5);
      expectClose(m, wantM, 'm', 1e-5);
      expectClose(v, wantV, 'v', 1e-5);
    });

    it('thread counts do not change a single bit', () => {
      const k = backend.get();
      const [N, C] = [64, 1100]; // large enough for the addon to use every thread
      const x = randomF32(N * C, 16, -2, 2);
      const w = randomF32(C, 17);
      const R = randomF32(N * C, 18);
      const pos = Int32Array.from({ length: N }, (_, i) => i);
      const targets = Int32Array.from({ length: N }, (_, i) => (i % 7 === 0 ? -1 : (i * 31) % C));
      const run = (threads: number): Float32Array[] => {
        const out = new Float32Array(N * C);
        const rstd = new Float32Array(N);
        k.rmsnormForward(out, rstd, x, w, N, C, 1e-6, threads);
        const dx = new Float32Array(N * C);
        const dw = new Float32Array(C);
        k.rmsnormBackward(dx, dw, R, x, w, rstd, N, C, threads);
        const sm = new Float32Array(N * C);
        k.softmaxForward(sm, x, N, C, 0.5, true, N, threads);
        const dsm = new Float32Array(N * C);
        k.softmaxBackward(dsm, R, sm, N, C, 0.5, threads);
        const sw = new Float32Array(N * C);
        k.swigluForward(sw, x, R, N * C, threads);
        const rope = new Float32Array(N * C);
        k.ropeForward(rope, x, pos, N, 10, C / 10, 100, 1e4, 1, true, threads);
        const losses = new Float32Array(N);
        const dl = new Float32Array(N * C);
        const total = k.crossEntropy(losses, dl, x, targets, N, C, 1 / N, threads);
        const p = Float32Array.from(w);
        k.adamw(p, dw, new Float32Array(C), new Float32Array(C), C, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1, 1, threads);
        return [out, rstd, dx, dw, sm, dsm, sw, rope, losses, dl, Float32Array.of(total), p];
      };
      const one = run(1);
      const two = run(2);
      one.forEach((a, i) => expect(Buffer.from(two[i]!.buffer).equals(Buffer.from(a.buffer)), `output ${i}`).toBe(true));
    });
  });
}
