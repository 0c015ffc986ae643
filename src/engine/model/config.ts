/**
 * The engine's view of a llama-family model: its dimensions (from the GGUF hparams, read as
 * llama.cpp reads them) and its tensor manifest (GGUF names, optional tensors marked), for
 * `llama` and `qwen2` as llama.cpp's src/models/{llama,qwen2}.cpp build them.
 */
import { InputError } from '../../util/errors.js';
import { MetadataView } from '../gguf/metadata.js';
import { readModelHparams, type SupportedArchitecture } from '../gguf/hparams.js';
import type { GgufFile } from '../gguf/types.js';

export interface ModelConfig {
  arch: SupportedArchitecture;
  layers: number;     // L
  embd: number;       // C
  heads: number;      // NH
  kvHeads: number;    // NKV (grouped-query attention: query head h reads kv head floor(h / (NH / NKV)))
  headDim: number;    // HD
  qDim: number;       // NH * HD
  kvDim: number;      // NKV * HD
  ff: number;         // FF
  vocab: number;      // V
  /** Dimensions of each head that RoPE rotates (llama.cpp requires the whole head for llama/qwen2). */
  ropeDim: number;
  ropeBase: number;
  /** 1 / rope scaling factor (linear scaling); 1 without scaling. */
  ropeFreqScale: number;
  /** false: pairs (2i, 2i+1) (LLAMA_ROPE_TYPE_NORM, llama); true: pairs (i, i + d/2) (NEOX, qwen2). */
  ropeNeox: boolean;
  rmsEps: number;
  contextLength: number;
  /** No output.weight: logits use token_embd.weight. */
  tiedOutput: boolean;
}

/** The seven projections of a block, in graph order; LoRA targets use the same names. */
export const PROJECTIONS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type Projection = (typeof PROJECTIONS)[number];

/** GGUF tensor stem of each projection (blk.{i}.<stem>.weight). */
export const PROJECTION_STEM: Record<Projection, string> = {
  q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down',
};

/** [output features, input features] of a projection. */
export function projectionShape(c: ModelConfig, p: Projection): [number, number] {
  switch (p) {
    case 'q': return [c.qDim, c.embd];
    case 'k': case 'v': return [c.kvDim, c.embd];
    case 'o': return [c.embd, c.qDim];
    case 'gate': case 'up': return [c.ff, c.embd];
    case 'down': return [c.embd, c.ff];
  }
}

/** Which optional bias tensors llama.cpp loads for each architecture. */
const OPTIONAL_BIASES: Record<SupportedArchitecture, readonly Projection[]> = {
  llama: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'],
  qwen2: ['q', 'k', 'v'],
};
const OUTPUT_BIAS: Record<SupportedArchitecture, boolean> = { llama: false, qwen2: true };

export function modelConfig(file: GgufFile): ModelConfig {
  const h = readModelHparams(file);
  const m = new MetadataView(file.metadata, file.path);
  if (h.ropeDim !== h.headDim) {
    throw new InputError(`${file.path}: ${h.arch}.rope.dimension_count is ${h.ropeDim} but the head size is ${h.headDim} (llama.cpp requires them equal for ${h.arch})`);
  }
  const valueLength = m.number(`${h.arch}.attention.value_length`);
  if (valueLength !== undefined && valueLength !== h.headDim) {
    throw new InputError(`${file.path}: ${h.arch}.attention.value_length ${valueLength} differs from key_length ${h.headDim} (not supported)`);
  }
  return {
    arch: h.arch,
    layers: h.layers,
    embd: h.embd,
    heads: h.heads,
    kvHeads: h.kvHeads,
    headDim: h.headDim,
    qDim: h.heads * h.headDim,
    kvDim: h.kvHeads * h.headDim,
    ff: h.ff,
    vocab: h.vocabSize,
    ropeDim: h.ropeDim,
    ropeBase: h.ropeFreqBase,
    ropeFreqScale: ropeFreqScale(m, h.arch, file.path),
    ropeNeox: h.ropeType === 'neox',
    rmsEps: h.rmsEps,
    contextLength: h.contextLength,
    tiedOutput: h.tiedOutput,
  };
}

/** Linear RoPE scaling as llama.cpp reads it (rope.scaling.factor or the older rope.scale_linear). */
function ropeFreqScale(m: MetadataView, arch: string, path: string): number {
  const type = m.string(`${arch}.rope.scaling.type`);
  if (type !== undefined && type !== 'none' && type !== 'linear') {
    throw new InputError(`${path}: ${arch}.rope.scaling.type "${type}" is not supported by the finesec engine (none or linear)`);
  }
  const factor = m.number(`${arch}.rope.scaling.factor`) ?? m.number(`${arch}.rope.scale_linear`) ?? 0;
  return type === 'none' || factor === 0 ? 1 : 1 / factor;
}

export interface ManifestEntry {
  name: string;
  /** ggml order: dims[0] is the contiguous (input) dimension. */
  dims: number[];
  kind: 'matrix' | 'norm' | 'bias';
  optional: boolean;
}

/** Every tensor the engine reads, with its GGUF name and the shape the metadata implies. */
export function tensorManifest(c: ModelConfig): ManifestEntry[] {
  const out: ManifestEntry[] = [{ name: 'token_embd.weight', dims: [c.embd, c.vocab], kind: 'matrix', optional: false }];
  const biases = OPTIONAL_BIASES[c.arch];
  for (let l = 0; l < c.layers; l++) {
    out.push({ name: `blk.${l}.attn_norm.weight`, dims: [c.embd], kind: 'norm', optional: false });
    out.push({ name: `blk.${l}.ffn_norm.weight`, dims: [c.embd], kind: 'norm', optional: false });
    for (const p of PROJECTIONS) {
      const [rows, cols] = projectionShape(c, p);
      out.push({ name: `blk.${l}.${PROJECTION_STEM[p]}.weight`, dims: [cols, rows], kind: 'matrix', optional: false });
      if (biases.includes(p)) out.push({ name: `blk.${l}.${PROJECTION_STEM[p]}.bias`, dims: [rows], kind: 'bias', optional: true });
    }
  }
  out.push({ name: 'output_norm.weight', dims: [c.embd], kind: 'norm', optional: false });
  // Absent output.weight means tied: llama.cpp then duplicates token_embd.weight.
  out.push({ name: 'output.weight', dims: [c.embd, c.vocab], kind: 'matrix', optional: true });
  if (OUTPUT_BIAS[c.arch]) out.push({ name: 'output.bias', dims: [c.vocab], kind: 'bias', optional: true });
  return out;
}
