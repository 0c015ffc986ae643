import { InputError } from '../../util/errors.js';
import { MetadataView } from './metadata.js';
import type { GgufFile } from './types.js';

export const SUPPORTED_ARCHITECTURES = ['llama', 'qwen2'] as const;
export type SupportedArchitecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/**
 * The hyperparameters of a llama-family GGUF, read the way llama.cpp reads them
 * (src/llama-model.cpp load_hparams): head_count_kv defaults to head_count, rope.dimension_count
 * to the head size, rope.freq_base to 10000.
 */
export interface ModelHparams {
  arch: SupportedArchitecture;
  contextLength: number;
  embd: number;
  layers: number;
  ff: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeDim: number;
  ropeFreqBase: number;
  rmsEps: number;
  vocabSize: number;
  /** No output.weight: the output projection is token_embd.weight. */
  tiedOutput: boolean;
  /** llama rotates pairs (2i, 2i+1) ("norm"); qwen2 rotates (i, i + headDim/2) ("neox"). */
  ropeType: 'norm' | 'neox';
  /** qwen2 has attn_q/k/v biases. */
  qkvBias: boolean;
}

export function readModelHparams(file: GgufFile): ModelHparams {
  const m = new MetadataView(file.metadata, file.path);
  const arch = m.requireString('general.architecture');
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new InputError(`${file.path}: unknown architecture "${arch}" (finesec supports ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  }
  const a = arch as SupportedArchitecture;
  const req = (key: string): number => m.requireNumber(`${a}.${key}`);
  const contextLength = req('context_length');
  const embd = req('embedding_length');
  const layers = req('block_count');
  const ff = req('feed_forward_length');
  const heads = req('attention.head_count');
  const kvHeads = m.number(`${a}.attention.head_count_kv`) ?? heads;
  if (heads < 1 || embd % heads !== 0 || heads % kvHeads !== 0) {
    throw new InputError(`${file.path}: inconsistent attention shape (embd ${embd}, heads ${heads}, kv heads ${kvHeads})`);
  }
  const headDim = m.number(`${a}.attention.key_length`) ?? embd / heads;
  const ropeDim = m.number(`${a}.rope.dimension_count`) ?? headDim;
  const embdTensor = file.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embdTensor) throw new InputError(`${file.path}: tensor token_embd.weight is missing`);
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  const vocabSize = tokens && 'itemType' in tokens ? tokens.value.length : (m.number(`${a}.vocab_size`) ?? embdTensor.dims[1]!);
  if (embdTensor.dims[0] !== embd || embdTensor.dims[1] !== vocabSize) {
    throw new InputError(`${file.path}: token_embd.weight is ${embdTensor.dims.join('x')}, expected ${embd}x${vocabSize} (embedding x vocabulary)`);
  }
  return {
    arch: a,
    contextLength,
    embd,
    layers,
    ff,
    heads,
    kvHeads,
    headDim,
    ropeDim,
    ropeFreqBase: m.number(`${a}.rope.freq_base`) ?? 10000,
    rmsEps: req('attention.layer_norm_rms_epsilon'),
    vocabSize,
    tiedOutput: !file.tensors.some((t) => t.name === 'output.weight'),
    ropeType: a === 'llama' ? 'norm' : 'neox',
    qkvBias: file.tensors.some((t) => t.name === 'blk.0.attn_q.bias'),
  };
}
