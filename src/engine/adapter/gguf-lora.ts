import { InputError } from '../../util/errors.js';
import { gv, MetadataView } from '../gguf/metadata.js';
import { f32ArrayToBytes, f32ArrayToF16Bytes } from '../gguf/quant.js';
import { readGguf, readTensorF32 } from '../gguf/reader.js';
import { writeGguf } from '../gguf/writer.js';
import { GgmlType, ggmlTypeName, type GgufFile, type GgufMetadata, type GgufTensorData, type GgufTensorInfo } from '../gguf/types.js';

/**
 * llama.cpp's GGUF LoRA adapter format (src/llama-adapter.cpp): metadata general.type = "adapter",
 * general.architecture = the base's, adapter.type = "lora", adapter.lora.alpha (f32); for every
 * adapted base weight W (GGUF name, e.g. blk.0.attn_q.weight) two tensors
 *   W.lora_a: ggml dims [in, rank]  (PyTorch shape [rank, in])
 *   W.lora_b: ggml dims [rank, out] (PyTorch shape [out, rank])
 * and llama.cpp adds scale * (alpha / rank) * B(A x) to W x, where scale is chosen at load time.
 */

export interface LoraPair {
  /** Base tensor name, e.g. "blk.3.ffn_up.weight". */
  target: string;
  rank: number;
  inFeatures: number;
  outFeatures: number;
  /** Row-major [rank, in]. */
  a: Float32Array;
  /** Row-major [out, rank]. */
  b: Float32Array;
}

export interface LoraAdapter {
  architecture: string;
  alpha: number;
  pairs: LoraPair[];
  name?: string;
}

export interface WriteLoraOptions {
  /** Storage type of A and B (llama.cpp reads both). Default f32. */
  type?: 'f32' | 'f16';
  /** Extra metadata (e.g. finesec provenance), written after the required keys. */
  metadata?: GgufMetadata;
}

export function writeGgufLora(path: string, adapter: LoraAdapter, options: WriteLoraOptions = {}): void {
  if (!Number.isFinite(adapter.alpha)) throw new Error(`LoRA alpha must be a finite number, got ${adapter.alpha}`);
  if (adapter.pairs.length === 0) throw new Error('a LoRA adapter needs at least one A/B pair');
  const type = options.type === 'f16' ? GgmlType.F16 : GgmlType.F32;
  const encode = type === GgmlType.F16 ? f32ArrayToF16Bytes : f32ArrayToBytes;
  const metadata: GgufMetadata = new Map([
    ['general.architecture', gv.str(adapter.architecture)],
    ['general.type', gv.str('adapter')],
    ['adapter.type', gv.str('lora')],
    ['adapter.lora.alpha', gv.f32(adapter.alpha)],
  ]);
  if (adapter.name) metadata.set('general.name', gv.str(adapter.name));
  for (const [k, v] of options.metadata ?? []) if (!metadata.has(k)) metadata.set(k, v);

  const tensors: GgufTensorData[] = [];
  const seen = new Set<string>();
  for (const p of adapter.pairs) {
    checkPair(p);
    if (seen.has(p.target)) throw new Error(`LoRA target ${p.target} appears twice`);
    seen.add(p.target);
    tensors.push({ name: `${p.target}.lora_a`, dims: [p.inFeatures, p.rank], type, data: encode(p.a) });
    tensors.push({ name: `${p.target}.lora_b`, dims: [p.rank, p.outFeatures], type, data: encode(p.b) });
  }
  writeGguf(path, { metadata, tensors });
}

function checkPair(p: LoraPair): void {
  if (p.target.endsWith('token_embd.weight')) {
    // llama.cpp stores the embedding's pair transposed; finesec does not adapt embeddings.
    throw new Error(`LoRA on ${p.target} is not supported`);
  }
  for (const [name, v] of [['rank', p.rank], ['inFeatures', p.inFeatures], ['outFeatures', p.outFeatures]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`LoRA ${p.target}: ${name} must be a positive integer, got ${v}`);
  }
  if (p.a.length !== p.rank * p.inFeatures) throw new Error(`LoRA ${p.target}: A has ${p.a.length} values, expected rank*in = ${p.rank * p.inFeatures}`);
  if (p.b.length !== p.outFeatures * p.rank) throw new Error(`LoRA ${p.target}: B has ${p.b.length} values, expected out*rank = ${p.outFeatures * p.rank}`);
}

/** The adapter's header: what it targets and with which shapes (no tensor data read). */
export interface LoraAdapterInfo {
  path: string;
  architecture: string;
  alpha: number;
  pairs: Array<{ target: string; rank: number; inFeatures: number; outFeatures: number; a: GgufTensorInfo; b: GgufTensorInfo }>;
}

/** Reads and checks an adapter's header; every problem is one InputError naming the file. */
export function readGgufLoraInfo(path: string): LoraAdapterInfo {
  const file = readGguf(path);
  return loraInfoOf(file);
}

export function loraInfoOf(file: GgufFile): LoraAdapterInfo {
  const path = file.path;
  const meta = new MetadataView(file.metadata, path);
  const generalType = meta.string('general.type');
  if (generalType !== 'adapter') {
    throw new InputError(`${path}: not a LoRA adapter (general.type is ${generalType === undefined ? 'missing' : JSON.stringify(generalType)}, expected "adapter")`);
  }
  const adapterType = meta.string('adapter.type');
  if (adapterType !== 'lora') throw new InputError(`${path}: adapter.type is ${JSON.stringify(adapterType ?? null)}, expected "lora"`);
  const architecture = meta.requireString('general.architecture');
  const alpha = meta.number('adapter.lora.alpha') ?? 0;
  const halves = new Map<string, { a?: GgufTensorInfo; b?: GgufTensorInfo }>();
  for (const t of file.tensors) {
    const half = t.name.endsWith('.lora_a') ? 'a' : t.name.endsWith('.lora_b') ? 'b' : undefined;
    if (half === undefined) {
      if (t.name.endsWith('_norm.weight')) continue; // llama.cpp ignores these too
      throw new InputError(`${path}: tensor ${t.name} is neither .lora_a nor .lora_b`);
    }
    const target = t.name.slice(0, -'.lora_a'.length);
    const entry = halves.get(target) ?? {};
    entry[half] = t;
    halves.set(target, entry);
  }
  const pairs: LoraAdapterInfo['pairs'] = [];
  for (const [target, { a, b }] of halves) {
    if (!a || !b) throw new InputError(`${path}: LoRA pair for ${target} is missing its ${a ? 'lora_b' : 'lora_a'} tensor`);
    for (const t of [a, b]) {
      if (t.dims.length !== 2) throw new InputError(`${path}: ${t.name} has ${t.dims.length} dimensions, expected 2`);
      if (t.type !== GgmlType.F32 && t.type !== GgmlType.F16 && t.type !== GgmlType.BF16 && t.type !== GgmlType.Q8_0) {
        throw new InputError(`${path}: ${t.name} has type ${ggmlTypeName(t.type)} (F32, F16, BF16 or Q8_0 expected)`);
      }
    }
    const [inFeatures, rank] = a.dims as [number, number];
    const [rankB, outFeatures] = b.dims as [number, number];
    if (rank !== rankB) throw new InputError(`${path}: ${target} has rank ${rank} in lora_a but ${rankB} in lora_b`);
    pairs.push({ target, rank, inFeatures, outFeatures, a, b });
  }
  if (pairs.length === 0) throw new InputError(`${path}: LoRA adapter has no tensors`);
  return { path, architecture, alpha, pairs };
}

/** Reads a whole adapter (header and A/B values) back, e.g. to export or merge it. */
export function readGgufLora(path: string): LoraAdapter {
  const file = readGguf(path);
  const info = loraInfoOf(file);
  const name = new MetadataView(file.metadata, path).string('general.name');
  return {
    architecture: info.architecture,
    alpha: info.alpha,
    ...(name !== undefined ? { name } : {}),
    pairs: info.pairs.map((p) => ({
      target: p.target,
      rank: p.rank,
      inFeatures: p.inFeatures,
      outFeatures: p.outFeatures,
      a: readTensorF32(file, p.a),
      b: readTensorF32(file, p.b),
    })),
  };
}
