/**
 * Shared by the gradient tests: the versioned binary exchange with test/engine/torch/reference.py,
 * running it with Debian's PyTorch, normwise comparisons and central finite differences.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
export const REFERENCE_SCRIPT = join(import.meta.dirname, 'torch', 'reference.py');
const VERSION = 1;

export interface RefTensor {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** magic, u32 version, u32 header length, header JSON, zero padding to 4, then the data section. */
export function writeExchange(path: string, magic: 'FSGI' | 'FSGO', header: Record<string, unknown>, tensors: RefTensor[]): void {
  const directory: Array<{ name: string; dtype: string; shape: number[]; offset: number }> = [];
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`${t.name}: shape ${t.shape.join('x')} does not hold ${t.data.length} values`);
    directory.push({ name: t.name, dtype: t.data instanceof Int32Array ? 'i32' : 'f32', shape: t.shape, offset });
    offset += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify({ ...header, tensors: directory }), 'utf8');
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const head = Buffer.alloc(12 + json.length + pad);
  head.write(magic, 0, 'latin1');
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  const parts = [head, ...tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
  writeFileSync(path, Buffer.concat(parts));
}

export function readExchange(path: string, magic: 'FSGI' | 'FSGO'): { header: Record<string, unknown>; tensors: Map<string, RefTensor> } {
  const raw = readFileSync(path);
  const got = raw.subarray(0, 4).toString('latin1');
  if (got !== magic) throw new Error(`${path}: magic ${JSON.stringify(got)}, expected ${magic}`);
  const version = raw.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`${path}: version ${version}, expected ${VERSION} (regenerate with the test)`);
  const length = raw.readUInt32LE(8);
  const header = JSON.parse(raw.subarray(12, 12 + length).toString('utf8')) as Record<string, unknown> & {
    tensors: Array<{ name: string; dtype: string; shape: number[]; offset: number }>;
  };
  const dataStart = 12 + length + ((4 - ((12 + length) % 4)) % 4);
  const tensors = new Map<string, RefTensor>();
  for (const t of header.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const bytes = raw.subarray(dataStart + t.offset, dataStart + t.offset + 4 * count);
    const copy = new Uint8Array(bytes).buffer;
    tensors.set(t.name, { name: t.name, shape: t.shape, data: t.dtype === 'i32' ? new Int32Array(copy) : new Float32Array(copy) });
  }
  return { header, tensors };
}

/** Whether Debian's python3 can import torch, and why not. */
export function torchAvailable(): { ok: boolean; reason: string } {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `${PYTHON}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `${PYTHON} cannot import torch: ${r.stderr.trim().split('\n').pop()}` };
  return { ok: true, reason: `torch ${r.stdout.trim()}` };
}

export function runReference(input: string, output: string): void {
  const r = spawnSync(PYTHON, [REFERENCE_SCRIPT, input, output], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`reference.py failed (exit ${r.status}): ${r.stderr}`);
}

/** ||got - want|| / ||want|| (L2 over all elements) and the largest absolute difference. */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): { rel: number; maxDiff: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs ${want.length}`);
  let num = 0;
  let den = 0;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const d = got[i]! - want[i]!;
    num += d * d;
    den += want[i]! * want[i]!;
    maxDiff = Math.max(maxDiff, Math.abs(d));
  }
  return { rel: den === 0 ? Math.sqrt(num) : Math.sqrt(num / den), maxDiff };
}

/** Seeded uniform values in [lo, hi) (mulberry32). */
export function uniform(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

export interface FdResult {
  /** Largest |analytic - numeric| / (|numeric| + floor) over the checked elements. */
  worst: number;
  checked: number;
  /** Directional check along the normalised gradient: numeric slope vs |grad|. */
  directional: number;
}

/**
 * Finite differences on f32 parameters with the fourth-order central stencil
 * f'(p) ~ (8 (f(p+h) - f(p-h)) - (f(p+2h) - f(p-2h))) / 12h, for `count` elements (the largest
 * |grad| first, then seeded random ones), plus one directional derivative along grad/max|grad|
 * (every element moves at once, at most directionalEps), which averages the f32 forward's rounding
 * noise away, so its step can be smaller.
 * f must recompute the scalar objective (in float64) from the current parameter values.
 */
export function finiteDifferences(
  params: Float32Array, grad: Float32Array, f: () => number,
  options: { eps: number; directionalEps?: number; count: number; seed?: number; floor?: number },
): FdResult {
  const { eps, count } = options;
  const order = Array.from(grad.keys()).sort((a, b) => Math.abs(grad[b]!) - Math.abs(grad[a]!));
  const picks = new Set(order.slice(0, Math.ceil(count / 2)));
  const rand = uniform(options.seed ?? 1);
  while (picks.size < Math.min(count, params.length)) picks.add(Math.floor(rand(0, params.length)));
  let gmax = 0;
  for (const g of grad) gmax = Math.max(gmax, Math.abs(g));
  const floor = options.floor ?? 1e-2 * gmax;
  const stencil = (at: (s: number) => number, h: number): number =>
    (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);

  let worst = 0;
  for (const i of picks) {
    const saved = params[i]!;
    const numeric = stencil((s) => {
      params[i] = saved + s;
      return f();
    }, eps);
    params[i] = saved;
    worst = Math.max(worst, Math.abs(grad[i]! - numeric) / (Math.abs(numeric) + floor));
  }
  // Along u = grad / max|grad| (no element moves more than the step): d/ds f(p + s u) = |grad|^2 / max|grad|.
  let sq = 0;
  for (const g of grad) sq += g * g;
  const want = gmax === 0 ? 0 : sq / gmax;
  const saved = Float32Array.from(params);
  const slope = stencil((s) => {
    for (let i = 0; i < params.length; i++) params[i] = saved[i]! + (s * grad[i]!) / gmax;
    return f();
  }, options.directionalEps ?? eps);
  params.set(saved);
  return { worst, checked: picks.size, directional: want === 0 ? Math.abs(slope) : Math.abs(slope - want) / want };
}
