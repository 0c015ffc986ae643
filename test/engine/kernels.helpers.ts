/**
 * Shared by the kernel tests: the backends every test runs on, seeded random data, float64
 * references and a finite-difference gradient checker.
 */
import { availableIsas, kernelsFor, type Kernels } from '../../src/engine/kernels/index.js';
import { loadNative } from '../../src/engine/kernels/native.js';

export interface BackendCase {
  label: string;
  native: boolean;
  /** Returns the kernels; for native ones it also switches the addon to this case's ISA. */
  get: () => Kernels;
}

/**
 * The TypeScript fallback, and the addon on every ISA path this CPU has (avx512, avx2, scalar).
 * If the addon does not load, a 'native' case remains and fails with the reason, unless the run
 * asked for the fallback only (FINESEC_KERNELS=ts).
 */
export function backendCases(): BackendCase[] {
  const cases: BackendCase[] = [{ label: 'ts', native: false, get: () => kernelsFor('ts') }];
  if (process.env.FINESEC_KERNELS === 'ts') return cases;
  const native = loadNative();
  if (!native.ok) {
    cases.push({ label: 'native', native: true, get: () => kernelsFor('native') });
    return cases;
  }
  for (const isa of availableIsas()) cases.push({ label: `native/${isa}`, native: true, get: () => kernelsFor('native', isa) });
  return cases;
}

/** Seeded uniform values in [lo, hi) (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r(lo, hi);
  return out;
}

/**
 * Normwise comparison of got against a float64 reference: the largest |got - want| divided by the
 * element's magnitude bound (e.g. sum_k |a_ik b_kj|), and the NMSE sum (got-want)^2 / sum want^2.
 */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, bound?: ArrayLike<number>): { maxRel: number; nmse: number } {
  let maxRel = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const d = got[i]! - want[i]!;
    const b = bound ? bound[i]! : Math.abs(want[i]!);
    maxRel = Math.max(maxRel, b === 0 ? Math.abs(d) : Math.abs(d) / b);
    num += d * d;
    den += want[i]! * want[i]!;
  }
  if (Number.isNaN(num)) return { maxRel: NaN, nmse: NaN };
  return { maxRel, nmse: den === 0 ? num : num / den };
}

export interface GradCheckOptions {
  /** perturbation size (input units) */
  eps: number;
  /** at most this many elements are checked (spread over the tensor) */
  maxChecks: number;
  /** |analytic - numeric| <= abs + rel * |numeric| */
  abs: number;
  rel: number;
}

export interface GradCheckResult {
  checked: number;
  /** points where the two one-sided slopes disagree: not differentiable there, so not compared */
  skipped: number;
  worst: number;
  failures: string[];
}

/**
 * Central finite differences of `loss` (evaluated in float64 from the kernel's f32 outputs) with
 * respect to `x`, compared with `analytic`. The perturbation actually applied is the f32-rounded
 * one. A point whose left and right slopes disagree by more than 25% is a kink and is skipped.
 */
export function checkGradient(x: Float32Array, analytic: ArrayLike<number>, loss: () => number, options: GradCheckOptions): GradCheckResult {
  const stride = Math.max(1, Math.floor(x.length / options.maxChecks));
  const result: GradCheckResult = { checked: 0, skipped: 0, worst: 0, failures: [] };
  const l0 = loss();
  for (let i = 0; i < x.length && result.checked + result.skipped < options.maxChecks; i += stride) {
    const orig = x[i]!;
    x[i] = orig + options.eps;
    const up = x[i]!;
    const lUp = loss();
    x[i] = orig - options.eps;
    const down = x[i]!;
    const lDown = loss();
    x[i] = orig;
    const right = (lUp - l0) / (up - orig);
    const left = (l0 - lDown) / (orig - down);
    const scale = Math.max(Math.abs(right), Math.abs(left), 1e-3);
    if (Math.abs(right - left) > 0.25 * scale) {
      result.skipped++;
      continue;
    }
    const numeric = (lUp - lDown) / (up - down);
    const diff = Math.abs(analytic[i]! - numeric);
    const allowed = options.abs + options.rel * Math.abs(numeric);
    result.worst = Math.max(result.worst, diff / allowed);
    if (diff > allowed) result.failures.push(`[${i}] analytic ${analytic[i]} vs numeric ${numeric}`);
    result.checked++;
  }
  return result;
}

/** sum_i w[i] * y[i] in float64: a scalar loss whose gradient with respect to y is w. */
export function weightedSum(y: Float32Array, w: Float32Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
  return s;
}
