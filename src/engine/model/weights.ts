/**
 * Loads a llama-family GGUF into engine tensors. Matrices stay Q8_0 (the GGUF's own blocks, or
 * F32/F16/BF16 quantised once at load unless `quantize: false`), so the whole model is never
 * expanded to f32; norms and biases are f32. Every f32 parameter is a named view into one
 * Float32Array and every Q8_0 matrix a view into one Uint8Array. In trainable (full) mode every
 * parameter is f32, so one gradient buffer of the same length mirrors them all.
 */
import { InputError } from '../../util/errors.js';
import { readGguf, readTensorBytes, readTensorF32 } from '../gguf/reader.js';
import { GgmlType, ggmlTypeName, type GgufFile, type GgufTensorInfo } from '../gguf/types.js';
import { kernels as activeKernels, q8Bytes, type Kernels } from '../kernels/index.js';
import { modelConfig, tensorManifest, PROJECTIONS, PROJECTION_STEM, type ModelConfig, type Projection } from './config.js';

export interface F32Tensor {
  name: string;
  type: 'f32';
  /** Row-major: [rows, cols] for a matrix (rows = output features), [n] for a vector. */
  shape: number[];
  /** Element offset into ModelWeights.f32 (and into a full-mode gradient buffer). */
  offset: number;
  data: Float32Array;
}

export interface Q8Tensor {
  name: string;
  type: 'q8_0';
  /** [rows, cols], cols a multiple of 32. */
  shape: [number, number];
  /** Byte offset into ModelWeights.q8. */
  offset: number;
  /** ggml block_q8_0 rows: per 32 values an f16 scale and 32 int8. */
  data: Uint8Array;
}

export type Matrix = F32Tensor | Q8Tensor;

export interface LayerWeights {
  attnNorm: F32Tensor;                          // [C]
  /** q [qDim, C], k/v [kvDim, C], o [C, qDim], gate/up [FF, C], down [C, FF] */
  proj: Record<Projection, Matrix>;
  bias: Record<Projection, F32Tensor | null>;   // [rows of the projection]
  ffnNorm: F32Tensor;                           // [C]
}

export interface ModelWeights {
  tokenEmbd: Matrix;            // [V, C]
  layers: LayerWeights[];
  outputNorm: F32Tensor;        // [C]
  /** [V, C]; the very same object as tokenEmbd when the output is tied. */
  output: Matrix;
  outputBias: F32Tensor | null; // [V]
  /** Every f32 parameter, one allocation. */
  f32: Float32Array;
  /** Every Q8_0 matrix, one allocation (empty in trainable mode). */
  q8: Uint8Array;
  /** All tensors in manifest order (a tied output is listed once, as token_embd.weight). */
  tensors: Array<F32Tensor | Q8Tensor>;
}

export interface EngineModel {
  path: string;
  config: ModelConfig;
  weights: ModelWeights;
  /** Every parameter is f32 (full mode): gradients for all of them can be made with createModelGrads. */
  trainable: boolean;
}

export interface LoadOptions {
  /** Quantise F32/F16/BF16 matrices to Q8_0 at load (default true). Matrices already Q8_0 stay Q8_0. */
  quantize?: boolean;
  /** Full mode: every parameter in f32 (Q8_0 dequantised) so all of them can be trained. */
  trainable?: boolean;
  kernels?: Kernels;
}

const READABLE = new Set<GgmlType>([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0]);

interface Planned {
  name: string;
  info: GgufTensorInfo;
  shape: number[];
  storage: 'f32' | 'q8_0';
  offset: number;
}

export function loadModel(path: string, options: LoadOptions = {}): EngineModel {
  const file = readGguf(path);
  const config = modelConfig(file);
  const trainable = options.trainable ?? false;
  const quantize = options.quantize ?? true;
  const k = options.kernels ?? activeKernels();

  const plan = planTensors(file, config, quantize, trainable);
  let f32Size = 0;
  let q8Size = 0;
  for (const p of plan) {
    if (p.storage === 'f32') {
      p.offset = f32Size;
      f32Size += p.shape.reduce((a, b) => a * b, 1);
    } else {
      p.offset = q8Size;
      q8Size += q8Bytes(p.shape[0]!, p.shape[1]!);
    }
  }
  const f32 = new Float32Array(f32Size);
  const q8 = new Uint8Array(q8Size);
  const byName = new Map<string, F32Tensor | Q8Tensor>();
  for (const p of plan) byName.set(p.name, materialise(file, p, f32, q8, k));

  const get = (name: string): F32Tensor | Q8Tensor | undefined => byName.get(name);
  const vector = (name: string): F32Tensor => {
    const t = get(name);
    if (!t || t.type !== 'f32') throw new Error(`internal: ${name} is not an f32 vector`);
    return t;
  };
  const optionalVector = (name: string): F32Tensor | null => (get(name) ? vector(name) : null);
  const matrix = (name: string): Matrix => {
    const t = get(name);
    if (!t) throw new Error(`internal: ${name} was not loaded`);
    return t;
  };

  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.layers; l++) {
    const proj = {} as Record<Projection, Matrix>;
    const bias = {} as Record<Projection, F32Tensor | null>;
    for (const p of PROJECTIONS) {
      proj[p] = matrix(`blk.${l}.${PROJECTION_STEM[p]}.weight`);
      bias[p] = optionalVector(`blk.${l}.${PROJECTION_STEM[p]}.bias`);
    }
    layers.push({ attnNorm: vector(`blk.${l}.attn_norm.weight`), proj, bias, ffnNorm: vector(`blk.${l}.ffn_norm.weight`) });
  }
  const tokenEmbd = matrix('token_embd.weight');
  const weights: ModelWeights = {
    tokenEmbd,
    layers,
    outputNorm: vector('output_norm.weight'),
    output: config.tiedOutput ? tokenEmbd : matrix('output.weight'),
    outputBias: optionalVector('output.bias'),
    f32,
    q8,
    tensors: plan.map((p) => byName.get(p.name)!),
  };
  return { path, config, weights, trainable };
}

/** Checks every tensor against the manifest and decides how each is stored. */
function planTensors(file: GgufFile, config: ModelConfig, quantize: boolean, trainable: boolean): Planned[] {
  const manifest = tensorManifest(config);
  const known = new Set(manifest.map((e) => e.name));
  for (const t of file.tensors) {
    if (!known.has(t.name)) {
      throw new InputError(`${file.path}: tensor ${t.name} is not part of a ${config.arch} model the finesec engine supports`);
    }
  }
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const plan: Planned[] = [];
  for (const e of manifest) {
    const info = byName.get(e.name);
    if (!info) {
      if (e.optional) continue;
      throw new InputError(`${file.path}: tensor ${e.name} is missing (required for ${config.arch})`);
    }
    if (info.dims.length !== e.dims.length || info.dims.some((d, i) => d !== e.dims[i])) {
      throw new InputError(`${file.path}: tensor ${e.name} has shape ${info.dims.join('x')}, but the metadata implies ${e.dims.join('x')}`);
    }
    if (!READABLE.has(info.type)) {
      throw new InputError(`${file.path}: tensor ${e.name} has type ${ggmlTypeName(info.type)}, which the finesec engine cannot load (F32, F16, BF16 or Q8_0)`);
    }
    // Row-major shape: ggml's dims reversed.
    const shape = [...e.dims].reverse();
    let storage: 'f32' | 'q8_0' = 'f32';
    if (e.kind === 'matrix' && !trainable) {
      // Q8_0 blocks are kept as they are; float matrices are quantised when asked and possible.
      if (info.type === GgmlType.Q8_0 || (quantize && shape[1]! % 32 === 0)) storage = 'q8_0';
    }
    plan.push({ name: e.name, info, shape, storage, offset: 0 });
  }
  return plan;
}

function materialise(file: GgufFile, p: Planned, f32: Float32Array, q8: Uint8Array, k: Kernels): F32Tensor | Q8Tensor {
  if (p.storage === 'q8_0') {
    const [rows, cols] = p.shape as [number, number];
    const data = q8.subarray(p.offset, p.offset + q8Bytes(rows, cols));
    if (p.info.type === GgmlType.Q8_0) data.set(readTensorBytes(file, p.info));
    else k.quantizeQ8_0(data, readTensorF32(file, p.info), rows, cols);
    return { name: p.name, type: 'q8_0', shape: [rows, cols], offset: p.offset, data };
  }
  const data = f32.subarray(p.offset, p.offset + p.info.elements);
  data.set(readTensorF32(file, p.info));
  return { name: p.name, type: 'f32', shape: p.shape, offset: p.offset, data };
}

/** Gradients of a trainable model: one buffer mirroring ModelWeights.f32, with a view per tensor. */
export interface ModelGrads {
  all: Float32Array;
  of(t: F32Tensor): Float32Array;
}

export function createModelGrads(model: EngineModel): ModelGrads {
  if (!model.trainable) throw new Error('full-mode gradients need a model loaded with trainable: true');
  const all = new Float32Array(model.weights.f32.length);
  return { all, of: (t) => all.subarray(t.offset, t.offset + t.data.length) };
}

/** Row `token` of the embedding as f32 into out[C] (Q8_0 rows are dequantised on lookup). */
export function embeddingRow(k: Kernels, embd: Matrix, token: number, out: Float32Array): void {
  const cols = embd.shape[1];
  if (embd.type === 'f32') {
    out.set(embd.data.subarray(token * cols, (token + 1) * cols));
  } else {
    const rowBytes = q8Bytes(1, cols);
    k.dequantizeQ8_0(out, embd.data.subarray(token * rowBytes, (token + 1) * rowBytes), 1, cols);
  }
}
