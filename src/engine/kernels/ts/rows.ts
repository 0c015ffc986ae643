/**
 * Row and elementwise kernels in TypeScript, the fallback twins of native/src/rows.cc (same
 * formulas; sums in float64). Backward kernels accumulate (+=) into their gradients.
 */

const fround = Math.fround;

/** out[N,C] = inp * rstd * weight; rstd[N] = 1/sqrt(mean(inp^2) + eps) */
export function rmsnormForward(out: Float32Array, rstd: Float32Array, inp: Float32Array, weight: Float32Array, N: number, C: number, eps: number): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    let sum = 0;
    for (let i = 0; i < C; i++) sum += fround(inp[o + i]! * inp[o + i]!);
    const s = fround(1 / Math.sqrt(fround(fround(sum / C) + eps)));
    rstd[r] = s;
    for (let i = 0; i < C; i++) out[o + i] = fround(inp[o + i]! * s) * weight[i]!;
  }
}

/** dinp[N,C] += d/dinp; dweight[C] += d/dweight (null: frozen) */
export function rmsnormBackward(
  dinp: Float32Array, dweight: Float32Array | null, dout: Float32Array, inp: Float32Array, weight: Float32Array,
  rstd: Float32Array, N: number, C: number,
): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    const s = rstd[r]!;
    let dot = 0;
    for (let i = 0; i < C; i++) dot += dout[o + i]! * weight[i]! * inp[o + i]!;
    const k = (dot * s * s * s) / C;
    for (let i = 0; i < C; i++) {
      dinp[o + i]! += s * weight[i]! * dout[o + i]! - k * inp[o + i]!;
      if (dweight) dweight[i]! += dout[o + i]! * inp[o + i]! * s;
    }
  }
}

/** out[rows, cols] = softmax(scale * inp) per row, with the causal mask of KernelBackend.softmaxForward */
export function softmaxForward(out: Float32Array, inp: Float32Array, rows: number, cols: number, scale: number, causal: boolean, queryLen: number): void {
  const e = new Float64Array(cols); // out may alias inp
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const valid = causal ? Math.min(cols, Math.max(0, (r % queryLen) + (cols - queryLen) + 1)) : cols;
    let max = -Infinity;
    for (let j = 0; j < valid; j++) max = Math.max(max, fround(inp[o + j]! * scale));
    let sum = 0;
    for (let j = 0; j < valid; j++) {
      e[j] = Math.exp(fround(inp[o + j]! * scale) - max);
      sum += e[j]!;
    }
    for (let j = 0; j < valid; j++) out[o + j] = e[j]! / sum;
    for (let j = valid; j < cols; j++) out[o + j] = 0;
  }
}

/** dinp[rows, cols] += scale * out * (dout - sum(out * dout)) */
export function softmaxBackward(dinp: Float32Array, dout: Float32Array, out: Float32Array, rows: number, cols: number, scale: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += out[o + j]! * dout[o + j]!;
    for (let j = 0; j < cols; j++) dinp[o + j]! += scale * out[o + j]! * (dout[o + j]! - dot);
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function siluForward(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = inp[i]! * sigmoid(inp[i]!);
}

export function siluBackward(dinp: Float32Array, dout: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i]!;
    const s = sigmoid(x);
    dinp[i]! += dout[i]! * s * (1 + x * (1 - s));
  }
}

export function swigluForward(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = gate[i]! * sigmoid(gate[i]!) * up[i]!;
}

export function swigluBackward(dgate: Float32Array, dup: Float32Array, dout: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    const s = sigmoid(g);
    dgate[i]! += dout[i]! * up[i]! * s * (1 + g * (1 - s));
    dup[i]! += dout[i]! * g * s;
  }
}

/** cos/sin of the nRot/2 angles at one position, with ggml's f32 recurrence theta *= base^(-2/nRot). */
export function ropeAngles(pos: number, nRot: number, base: number, freqScale: number, cos: Float64Array, sin: Float64Array): void {
  const thetaScale = fround(Math.pow(fround(base), fround(-2 / nRot)));
  let theta = fround(pos);
  for (let i = 0; i < nRot / 2; i++) {
    const t = fround(fround(freqScale) * theta);
    cos[i] = Math.cos(t);
    sin[i] = Math.sin(t);
    theta = fround(theta * thetaScale);
  }
}

function rope(
  forward: boolean, out: Float32Array, inp: Float32Array, pos: Int32Array, T: number, nHead: number, headDim: number,
  nRot: number, base: number, freqScale: number, neox: boolean,
): void {
  const half = nRot / 2;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let t = 0; t < T; t++) {
    ropeAngles(pos[t]!, nRot, base, freqScale, cos, sin);
    for (let h = 0; h < nHead; h++) {
      const o = (t * nHead + h) * headDim;
      for (let i = 0; i < half; i++) {
        const a = o + (neox ? i : 2 * i);
        const b = o + (neox ? i + half : 2 * i + 1);
        const x0 = inp[a]!, x1 = inp[b]!;
        if (forward) {
          out[a] = x0 * cos[i]! - x1 * sin[i]!;
          out[b] = x0 * sin[i]! + x1 * cos[i]!;
        } else {
          out[a]! += x0 * cos[i]! + x1 * sin[i]!;
          out[b]! += x1 * cos[i]! - x0 * sin[i]!;
        }
      }
      for (let i = nRot; i < headDim; i++) {
        if (forward) out[o + i] = inp[o + i]!;
        else out[o + i]! += inp[o + i]!;
      }
    }
  }
}

export function ropeForward(out: Float32Array, inp: Float32Array, pos: Int32Array, T: number, nHead: number, headDim: number, nRot: number, base: number, freqScale: number, neox: boolean): void {
  rope(true, out, inp, pos, T, nHead, headDim, nRot, base, freqScale, neox);
}

export function ropeBackward(dinp: Float32Array, dout: Float32Array, pos: Int32Array, T: number, nHead: number, headDim: number, nRot: number, base: number, freqScale: number, neox: boolean): void {
  rope(false, dinp, dout, pos, T, nHead, headDim, nRot, base, freqScale, neox);
}

export function add(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

export function scale(out: Float32Array, inp: Float32Array, s: number, n: number): void {
  const sf = fround(s); // the addon multiplies by an f32 scale
  for (let i = 0; i < n; i++) out[i] = sf * inp[i]!;
}

export function axpy(y: Float32Array, alpha: number, x: Float32Array, n: number): void {
  const a = fround(alpha);
  for (let i = 0; i < n; i++) y[i]! += a * x[i]!;
}

export function crossEntropy(losses: Float32Array, dlogits: Float32Array | null, logits: Float32Array, targets: Int32Array, T: number, V: number, dscale: number): number {
  let total = 0;
  for (let t = 0; t < T; t++) {
    const o = t * V;
    const target = targets[t]!;
    if (target < 0) {
      losses[t] = 0;
      if (dlogits) dlogits.fill(0, o, o + V);
      continue;
    }
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, logits[o + j]!);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits[o + j]! - max);
    const loss = Math.log(sum) + max - logits[o + target]!;
    losses[t] = loss;
    total += losses[t]!;
    if (!dlogits) continue;
    for (let j = 0; j < V; j++) dlogits[o + j] = (Math.exp(logits[o + j]! - max) / sum) * dscale;
    dlogits[o + target]! -= dscale;
  }
  return total;
}

export function adamw(
  param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, n: number, lr: number, beta1: number,
  beta2: number, eps: number, weightDecay: number, step: number, gradScale: number,
): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < n; i++) {
    const g = grad[i]! * gradScale;
    m[i]! += (1 - beta1) * (g - m[i]!);
    v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
    const denom = Math.sqrt(v[i]!) / bc2Sqrt + eps;
    param[i] = param[i]! * decay - stepSize * (m[i]! / denom);
  }
}
