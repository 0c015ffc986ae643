/**
 * GGUF file format constants and value types, as llama.cpp defines them (gguf-py/gguf/constants.py,
 * ggml/src/gguf.cpp). Dimensions are stored ggml-style: dims[0] (ne0) is the contiguous one, so a
 * PyTorch weight of shape [out, in] is written with dims [in, out].
 */

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_NAME: tensor names must be shorter than this. */
export const GGUF_MAX_TENSOR_NAME = 64;
export const GGUF_MAX_DIMS = 4;
/** ggml's GGML_QNT_VERSION, written as general.quantization_version in quantized files. */
export const GGML_QUANTIZATION_VERSION = 2;

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export type GgufScalarType = Exclude<GgufValueType, GgufValueType.ARRAY>;
export type GgufScalar = number | bigint | boolean | string;

/** One metadata value with its exact GGUF type, so a file round-trips byte for byte. */
export type GgufValue =
  | { type: GgufScalarType; value: GgufScalar }
  | { type: GgufValueType.ARRAY; itemType: GgufScalarType; value: GgufScalar[] };

export type GgufMetadata = Map<string, GgufValue>;

/** ggml tensor types (GGMLQuantizationType). Only F32, F16, BF16 and Q8_0 are read as numbers here. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
}

const QK_K = 256;

/** [elements per block, bytes per block] for every type a GGUF may hold (gguf-py GGML_QUANT_SIZES). */
const BLOCK_LAYOUT: Record<GgmlType, readonly [number, number]> = {
  [GgmlType.F32]: [1, 4],
  [GgmlType.F16]: [1, 2],
  [GgmlType.Q4_0]: [32, 2 + 16],
  [GgmlType.Q4_1]: [32, 2 + 2 + 16],
  [GgmlType.Q5_0]: [32, 2 + 4 + 16],
  [GgmlType.Q5_1]: [32, 2 + 2 + 4 + 16],
  [GgmlType.Q8_0]: [32, 2 + 32],
  [GgmlType.Q8_1]: [32, 4 + 4 + 32],
  [GgmlType.Q2_K]: [QK_K, 2 + 2 + QK_K / 16 + QK_K / 4],
  [GgmlType.Q3_K]: [QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
  [GgmlType.Q4_K]: [QK_K, 2 + 2 + QK_K / 2 + 12],
  [GgmlType.Q5_K]: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
  [GgmlType.Q6_K]: [QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
  [GgmlType.Q8_K]: [QK_K, 4 + QK_K + QK_K / 8],
  [GgmlType.IQ2_XXS]: [QK_K, 2 + QK_K / 4],
  [GgmlType.IQ2_XS]: [QK_K, 2 + QK_K / 4 + QK_K / 32],
  [GgmlType.IQ3_XXS]: [QK_K, 2 + QK_K / 4 + QK_K / 8],
  [GgmlType.IQ1_S]: [QK_K, 2 + QK_K / 8 + QK_K / 16],
  [GgmlType.IQ4_NL]: [32, 2 + 16],
  [GgmlType.IQ3_S]: [QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
  [GgmlType.IQ2_S]: [QK_K, 2 + QK_K / 4 + QK_K / 16],
  [GgmlType.IQ4_XS]: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 64],
  [GgmlType.I8]: [1, 1],
  [GgmlType.I16]: [1, 2],
  [GgmlType.I32]: [1, 4],
  [GgmlType.I64]: [1, 8],
  [GgmlType.F64]: [1, 8],
  [GgmlType.IQ1_M]: [QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
  [GgmlType.BF16]: [1, 2],
  [GgmlType.TQ1_0]: [QK_K, 2 + 4 * 13],
  [GgmlType.TQ2_0]: [QK_K, 2 + 64],
  [GgmlType.MXFP4]: [32, 1 + 16],
};

export function isKnownGgmlType(type: number): type is GgmlType {
  return Object.prototype.hasOwnProperty.call(BLOCK_LAYOUT, type);
}

export function ggmlTypeName(type: number): string {
  return isKnownGgmlType(type) ? GgmlType[type] : `type#${type}`;
}

export function ggmlBlockSize(type: GgmlType): number {
  return BLOCK_LAYOUT[type][0];
}

export function ggmlBlockBytes(type: GgmlType): number {
  return BLOCK_LAYOUT[type][1];
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Bytes a tensor of this type and shape occupies; dims[0] must be a multiple of the block size. */
export function tensorByteSize(type: GgmlType, dims: readonly number[]): number {
  const [block, bytes] = BLOCK_LAYOUT[type];
  return (elementCount(dims) / block) * bytes;
}

/** llama.cpp's general.file_type values (LlamaFileType) for the types this project writes. */
export enum LlamaFileType {
  ALL_F32 = 0,
  MOSTLY_F16 = 1,
  MOSTLY_Q8_0 = 7,
  MOSTLY_BF16 = 32,
}

export function fileTypeName(fileType: number): string {
  const names: Record<number, string> = {
    0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K',
    11: 'Q3_K_S', 12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S',
    17: 'Q5_K_M', 18: 'Q6_K', 32: 'BF16',
  };
  return names[fileType] ?? `file_type#${fileType}`;
}

/** A tensor as the file describes it: the data lives at file.dataOffset + offset. */
export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: GgmlType;
  /** Relative to the start of the data section. */
  offset: number;
  byteSize: number;
  elements: number;
}

export interface GgufFile {
  path: string;
  version: number;
  alignment: number;
  metadata: GgufMetadata;
  tensors: GgufTensorInfo[];
  /** Absolute file offset of the (aligned) data section. */
  dataOffset: number;
  fileSize: number;
}

/**
 * A tensor to write: data must hold exactly tensorByteSize(type, dims) bytes. A function is called
 * only when the writer reaches the tensor, so a big model is converted one tensor at a time.
 */
export interface GgufTensorData {
  name: string;
  dims: number[];
  type: GgmlType;
  data: Uint8Array | (() => Uint8Array);
}
