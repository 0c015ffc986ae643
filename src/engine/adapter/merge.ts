/**
 * Merges a GGUF LoRA adapter into its base: every adapted weight W [out, in] becomes
 * W + s * B·A with s = scale * alpha / rank (llama.cpp's own scale), computed in f32 from the
 * dequantised base, then stored again as Q8_0 (or F16/F32). The result is a plain model that
 * llama.cpp runs with no adapter. Tensors are converted one at a time while the file is written.
 */
import { checkAdapterFitsBase, readBaseModel } from '../../runtime/adapter-check.js';
import { InputError } from '../../util/errors.js';
import { gv } from '../gguf/metadata.js';
import { f32ArrayToBytes, f32ArrayToF16Bytes, quantizeQ8_0, Q8_0_BLOCK } from '../gguf/quant.js';
import { allowsQuantization } from '../gguf/quantize-model.js';
import { readTensorBytes, tensorBytesToF32 } from '../gguf/reader.js';
import { GGML_QUANTIZATION_VERSION, GgmlType, LlamaFileType, type GgufMetadata, type GgufTensorData, type GgufTensorInfo } from '../gguf/types.js';
import { writeGguf } from '../gguf/writer.js';
import { kernels as activeKernels, type Kernels } from '../kernels/index.js';
import { readGgufLora, type LoraPair } from './gguf-lora.js';
import { pairScale } from './lora-file.js';

export const MERGE_TYPES = ['q8_0', 'f16', 'f32'] as const;
export type MergeType = (typeof MERGE_TYPES)[number];

export interface MergeOptions {
  /** Adapter strength, as llama.cpp's --lora-scaled (default 1). */
  scale?: number;
  /** Storage of the weight matrices in the output (default q8_0). */
  type?: MergeType;
  kernels?: Kernels;
  threads?: number;
  onTensor?: (done: number, total: number) => void;
}

export interface MergeSummary {
  merged: number;
  converted: number;
  copied: number;
  outputType: MergeType;
}

const FILE_TYPE: Record<MergeType, LlamaFileType> = { q8_0: LlamaFileType.MOSTLY_Q8_0, f16: LlamaFileType.MOSTLY_F16, f32: LlamaFileType.ALL_F32 };
const FLOAT_TYPES = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0]);

export function mergeAdapter(basePath: string, adapterPath: string, outPath: string, options: MergeOptions = {}): MergeSummary {
  const type = options.type ?? 'q8_0';
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new InputError(`merge scale must be a finite number, got ${scale}`);
  const k = options.kernels ?? activeKernels();
  const threads = options.threads ?? 1;
  const base = readBaseModel(basePath);
  checkAdapterFitsBase(adapterPath, base);
  const adapter = readGgufLora(adapterPath);
  const byTarget = new Map<string, LoraPair>(adapter.pairs.map((p) => [p.target, p]));

  const summary: MergeSummary = { merged: 0, converted: 0, copied: 0, outputType: type };
  let done = 0;
  const tensors: GgufTensorData[] = base.tensors.map((t) => {
    const pair = byTarget.get(t.name);
    const target = outputType(t, type);
    if (!pair && target === t.type) summary.copied++;
    else if (pair) summary.merged++;
    else summary.converted++;
    if ((pair || target !== t.type) && !FLOAT_TYPES.has(t.type)) {
      throw new InputError(`${basePath}: tensor ${t.name} is stored as type ${t.type}; finesec can merge into F32, F16, BF16 or Q8_0 weights only`);
    }
    return {
      name: t.name,
      dims: t.dims,
      type: target,
      data: () => {
        const bytes = readTensorBytes(base, t);
        options.onTensor?.(++done, base.tensors.length);
        if (!pair && target === t.type) return bytes;
        const values = tensorBytesToF32(bytes, t, basePath);
        if (pair) {
          // W[out, in] += s * B[out, r] · A[r, in]
          const s = pairScale(adapter.alpha, pair.rank, scale);
          k.sgemm(false, false, pair.outFeatures, pair.inFeatures, pair.rank, s, pair.b, pair.rank, pair.a, pair.inFeatures, 1, values, pair.inFeatures, threads);
        }
        return encode(values, target);
      },
    };
  });
  const metadata: GgufMetadata = new Map(base.metadata);
  metadata.set('general.file_type', gv.u32(FILE_TYPE[type]));
  if (type === 'q8_0') metadata.set('general.quantization_version', gv.u32(GGML_QUANTIZATION_VERSION));
  else metadata.delete('general.quantization_version');
  writeGguf(outPath, { metadata, tensors });
  return summary;
}

/** Weight matrices take the requested type (Q8_0 needs rows of 32: others fall back to F16, as llama.cpp does); the rest keep theirs. */
function outputType(t: GgufTensorInfo, type: MergeType): GgmlType {
  if (!allowsQuantization(t.name, t.dims)) return t.type;
  if (type === 'f32') return GgmlType.F32;
  if (type === 'f16') return GgmlType.F16;
  return t.dims[0]! % Q8_0_BLOCK === 0 ? GgmlType.Q8_0 : GgmlType.F16;
}

function encode(values: Float32Array, type: GgmlType): Uint8Array {
  switch (type) {
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    case GgmlType.F16:
      return f32ArrayToF16Bytes(values);
    case GgmlType.F32:
      return f32ArrayToBytes(values);
    default:
      throw new Error(`internal: cannot encode merged values as type ${type}`);
  }
}
