import { InputError } from '../../util/errors.js';
import { gv } from './metadata.js';
import { f32ArrayToF16Bytes, quantizeQ8_0, Q8_0_BLOCK } from './quant.js';
import { readGguf, readTensorBytes, tensorBytesToF32 } from './reader.js';
import {
  GGML_QUANTIZATION_VERSION,
  GgmlType,
  LlamaFileType,
  ggmlTypeName,
  type GgufMetadata,
  type GgufTensorData,
  type GgufTensorInfo,
} from './types.js';
import { writeGguf } from './writer.js';

/**
 * Which tensors llama.cpp's quantizer converts (src/llama-quant.cpp, tensor_allows_quantization):
 * 2-D or larger tensors whose name ends in "weight", except norms and a few small special cases.
 * Norms and biases therefore stay F32.
 */
export function allowsQuantization(name: string, dims: readonly number[]): boolean {
  if (dims.length < 2) return false;
  if (!name.endsWith('weight')) return false;
  const excluded = ['_norm.weight', 'ffn_gate_inp.weight', 'position_embd.weight', 'token_types.weight', 'ssm_conv1d'];
  return !excluded.some((part) => name.includes(part));
}

export interface QuantizeSummary {
  quantized: number;
  /** Rows not a multiple of 32 cannot be Q8_0; llama.cpp stores them as F16, and so do we. */
  fallbackF16: number;
  copied: number;
  inputBytes: number;
  outputBytes: number;
}

const FLOAT_TYPES = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

/** Converts a GGUF's F32/F16/BF16 weight matrices to Q8_0 and sets general.file_type to MOSTLY_Q8_0. */
export function quantizeModelQ8_0(inPath: string, outPath: string, onTensor?: (done: number, total: number) => void): QuantizeSummary {
  const file = readGguf(inPath);
  const summary: QuantizeSummary = { quantized: 0, fallbackF16: 0, copied: 0, inputBytes: file.fileSize, outputBytes: 0 };
  let done = 0;
  const tensors: GgufTensorData[] = file.tensors.map((t) => {
    const target = targetType(t, inPath);
    if (target === t.type) summary.copied++;
    else if (target === GgmlType.Q8_0) summary.quantized++;
    else summary.fallbackF16++;
    return {
      name: t.name,
      dims: t.dims,
      type: target,
      data: () => {
        const bytes = readTensorBytes(file, t);
        onTensor?.(++done, file.tensors.length);
        if (target === t.type) return bytes;
        const values = tensorBytesToF32(bytes, t, inPath);
        return target === GgmlType.Q8_0 ? quantizeQ8_0(values) : f32ArrayToF16Bytes(values);
      },
    };
  });
  const metadata: GgufMetadata = new Map(file.metadata);
  metadata.set('general.file_type', gv.u32(LlamaFileType.MOSTLY_Q8_0));
  metadata.set('general.quantization_version', gv.u32(GGML_QUANTIZATION_VERSION));
  writeGguf(outPath, { metadata, tensors });
  summary.outputBytes = readGguf(outPath).fileSize;
  return summary;
}

function targetType(t: GgufTensorInfo, source: string): GgmlType {
  if (!allowsQuantization(t.name, t.dims) || t.type === GgmlType.Q8_0) return t.type;
  if (!FLOAT_TYPES.has(t.type)) {
    throw new InputError(`${source}: tensor ${t.name} is already quantized as ${ggmlTypeName(t.type)}; finesec converts only F32, F16 and BF16 weights to Q8_0`);
  }
  return t.dims[0]! % Q8_0_BLOCK === 0 ? GgmlType.Q8_0 : GgmlType.F16;
}
