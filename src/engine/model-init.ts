import { gv } from './gguf/metadata.js';
import { f32ArrayToBytes, f32ArrayToF16Bytes, quantizeQ8_0, Q8_0_BLOCK } from './gguf/quant.js';
import {
  GGML_QUANTIZATION_VERSION,
  GgmlType,
  LlamaFileType,
  type GgufMetadata,
  type GgufTensorData,
} from './gguf/types.js';
import { writeGguf } from './gguf/writer.js';
import { vocabToGgufMetadata, type BpeVocab } from '../tokenizer/vocab.js';
import type { SupportedArchitecture } from './gguf/hparams.js';

export { SUPPORTED_ARCHITECTURES as ARCHITECTURES } from './gguf/hparams.js';
export type Architecture = SupportedArchitecture;

/** Per-architecture facts llama.cpp relies on (src/models/{llama,qwen2}.cpp). */
const ARCH_DEFAULTS: Record<Architecture, { ropeFreqBase: number; rmsEps: number; qkvBias: boolean }> = {
  llama: { ropeFreqBase: 10000, rmsEps: 1e-5, qkvBias: false },
  qwen2: { ropeFreqBase: 1_000_000, rmsEps: 1e-6, qkvBias: true },
};

export const WEIGHT_TYPES = ['f32', 'f16', 'q8_0'] as const;
export type WeightType = (typeof WEIGHT_TYPES)[number];

export interface ModelShape {
  arch: Architecture;
  layers: number;
  embd: number;
  heads: number;
  kvHeads: number;
  ff: number;
  ctx: number;
  vocabSize: number;
  /** No output.weight: llama.cpp then uses token_embd.weight for the output projection. */
  tied: boolean;
  ropeFreqBase?: number;
  rmsEps?: number;
}

export interface TensorSpec {
  name: string;
  /** ggml order: dims[0] is the input (contiguous) dimension. */
  dims: number[];
  kind: 'weight' | 'norm' | 'bias';
}

/** Checks a shape the way llama.cpp will, so a bad combination fails here with a reason. */
export function checkShape(s: ModelShape): string | undefined {
  const positive = { layers: s.layers, embd: s.embd, heads: s.heads, 'kv-heads': s.kvHeads, ff: s.ff, ctx: s.ctx } as const;
  for (const [k, v] of Object.entries(positive)) {
    if (!Number.isInteger(v) || v < 1) return `--${k} must be a positive integer, got ${v}`;
  }
  if (s.embd % s.heads !== 0) return `--embd ${s.embd} is not divisible by --heads ${s.heads}`;
  if (s.heads % s.kvHeads !== 0) return `--heads ${s.heads} is not divisible by --kv-heads ${s.kvHeads}`;
  if ((s.embd / s.heads) % 2 !== 0) return `head size ${s.embd / s.heads} (embd / heads) must be even for RoPE`;
  return undefined;
}

/**
 * Every tensor of the model with GGUF names (blk.{i}.attn_q.weight, ...), in the order llama.cpp's
 * converter writes them.
 */
export function tensorManifest(s: ModelShape): TensorSpec[] {
  const headDim = s.embd / s.heads;
  const qDim = s.heads * headDim;
  const kvDim = s.kvHeads * headDim;
  const specs: TensorSpec[] = [{ name: 'token_embd.weight', dims: [s.embd, s.vocabSize], kind: 'weight' }];
  const bias = ARCH_DEFAULTS[s.arch].qkvBias;
  for (let i = 0; i < s.layers; i++) {
    const p = `blk.${i}.`;
    specs.push({ name: `${p}attn_norm.weight`, dims: [s.embd], kind: 'norm' });
    specs.push({ name: `${p}attn_q.weight`, dims: [s.embd, qDim], kind: 'weight' });
    if (bias) specs.push({ name: `${p}attn_q.bias`, dims: [qDim], kind: 'bias' });
    specs.push({ name: `${p}attn_k.weight`, dims: [s.embd, kvDim], kind: 'weight' });
    if (bias) specs.push({ name: `${p}attn_k.bias`, dims: [kvDim], kind: 'bias' });
    specs.push({ name: `${p}attn_v.weight`, dims: [s.embd, kvDim], kind: 'weight' });
    if (bias) specs.push({ name: `${p}attn_v.bias`, dims: [kvDim], kind: 'bias' });
    specs.push({ name: `${p}attn_output.weight`, dims: [qDim, s.embd], kind: 'weight' });
    specs.push({ name: `${p}ffn_norm.weight`, dims: [s.embd], kind: 'norm' });
    specs.push({ name: `${p}ffn_gate.weight`, dims: [s.embd, s.ff], kind: 'weight' });
    specs.push({ name: `${p}ffn_up.weight`, dims: [s.embd, s.ff], kind: 'weight' });
    specs.push({ name: `${p}ffn_down.weight`, dims: [s.ff, s.embd], kind: 'weight' });
  }
  specs.push({ name: 'output_norm.weight', dims: [s.embd], kind: 'norm' });
  if (!s.tied) specs.push({ name: 'output.weight', dims: [s.embd, s.vocabSize], kind: 'weight' });
  return specs;
}

/** The {arch}.* hyperparameters llama.cpp requires (and the optional ones it reads), plus general.*. */
export function hparamMetadata(s: ModelShape, name: string, fileType: LlamaFileType): GgufMetadata {
  const d = ARCH_DEFAULTS[s.arch];
  const a = s.arch;
  const m: GgufMetadata = new Map([
    ['general.architecture', gv.str(a)],
    ['general.name', gv.str(name)],
    ['general.file_type', gv.u32(fileType)],
    [`${a}.vocab_size`, gv.u32(s.vocabSize)],
    [`${a}.context_length`, gv.u32(s.ctx)],
    [`${a}.embedding_length`, gv.u32(s.embd)],
    [`${a}.block_count`, gv.u32(s.layers)],
    [`${a}.feed_forward_length`, gv.u32(s.ff)],
    [`${a}.attention.head_count`, gv.u32(s.heads)],
    [`${a}.attention.head_count_kv`, gv.u32(s.kvHeads)],
    [`${a}.rope.freq_base`, gv.f32(s.ropeFreqBase ?? d.ropeFreqBase)],
    [`${a}.rope.dimension_count`, gv.u32(s.embd / s.heads)],
    [`${a}.attention.layer_norm_rms_epsilon`, gv.f32(s.rmsEps ?? d.rmsEps)],
  ]);
  if (fileType === LlamaFileType.MOSTLY_Q8_0) m.set('general.quantization_version', gv.u32(GGML_QUANTIZATION_VERSION));
  return m;
}

export function fileTypeFor(type: WeightType): LlamaFileType {
  return type === 'f32' ? LlamaFileType.ALL_F32 : type === 'f16' ? LlamaFileType.MOSTLY_F16 : LlamaFileType.MOSTLY_Q8_0;
}

/**
 * Stores f32 values as a weight of the requested type. As llama.cpp's quantizer does, a row
 * length that is not a multiple of 32 cannot be Q8_0 and falls back to F16.
 */
export function weightStorageType(dims: number[], type: WeightType): GgmlType {
  if (type === 'f32') return GgmlType.F32;
  if (type === 'q8_0' && dims[0]! % Q8_0_BLOCK === 0) return GgmlType.Q8_0;
  return GgmlType.F16;
}

export function encodeWeight(values: Float32Array, dims: number[], type: WeightType): { type: GgmlType; data: Uint8Array } {
  const storage = weightStorageType(dims, type);
  if (storage === GgmlType.F32) return { type: storage, data: f32ArrayToBytes(values) };
  if (storage === GgmlType.Q8_0) return { type: storage, data: quantizeQ8_0(values) };
  return { type: storage, data: f32ArrayToF16Bytes(values) };
}

export interface InitOptions {
  shape: ModelShape;
  vocab: BpeVocab;
  type: WeightType;
  seed: number;
  /** Standard deviation of the random weights (norm weights are 1). */
  initStd?: number;
  name?: string;
  chatTemplate?: string;
}

/** Metadata and lazily generated tensors of a randomly initialised model. */
export function buildRandomModel(o: InitOptions): { metadata: GgufMetadata; tensors: GgufTensorData[] } {
  const s = o.shape;
  if (s.vocabSize !== o.vocab.tokens.length) {
    throw new Error(`vocabulary has ${o.vocab.tokens.length} tokens but the shape says ${s.vocabSize}`);
  }
  const problem = checkShape(s);
  if (problem) throw new Error(problem);
  const std = o.initStd ?? 0.02;
  const metadata = hparamMetadata(s, o.name ?? `finesec-${s.arch}-random`, fileTypeFor(o.type));
  for (const [k, v] of vocabToGgufMetadata(o.vocab, o.chatTemplate)) metadata.set(k, v);

  const tensors: GgufTensorData[] = tensorManifest(s).map((spec) => {
    const elements = spec.dims.reduce((a, b) => a * b, 1);
    if (spec.kind === 'norm') {
      return { name: spec.name, dims: spec.dims, type: GgmlType.F32, data: () => f32ArrayToBytes(new Float32Array(elements).fill(1)) };
    }
    const values = (): Float32Array => normalValues(elements, std, tensorSeed(o.seed, spec.name));
    if (spec.kind === 'bias') return { name: spec.name, dims: spec.dims, type: GgmlType.F32, data: () => f32ArrayToBytes(values()) };
    return { name: spec.name, dims: spec.dims, type: weightStorageType(spec.dims, o.type), data: () => encodeWeight(values(), spec.dims, o.type).data };
  });
  return { metadata, tensors };
}

export function writeRandomModel(path: string, o: InitOptions): { parameters: number; tensors: number } {
  const model = buildRandomModel(o);
  writeGguf(path, model);
  const parameters = model.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  return { parameters, tensors: model.tensors.length };
}

/** A tensor's seed depends only on the model seed and its name, so shapes elsewhere don't shift it. */
function tensorSeed(seed: number, name: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Normal(0, std) values from a seeded mulberry32 generator through Box-Muller. */
function normalValues(n: number, std: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta) * std;
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta) * std;
  }
  return out;
}
