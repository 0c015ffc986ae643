import { writeFileAtomic } from '../../util/atomic-write.js';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_MAX_TENSOR_NAME,
  GGUF_VERSION,
  GgufValueType,
  alignUp,
  ggmlBlockSize,
  ggmlTypeName,
  tensorByteSize,
  type GgufMetadata,
  type GgufScalar,
  type GgufScalarType,
  type GgufTensorData,
  type GgufValue,
} from './types.js';

export interface GgufWriteInput {
  metadata: GgufMetadata;
  tensors: GgufTensorData[];
}

/**
 * Writes a GGUF v3 file: header, metadata, tensor infos, then each tensor's data at an offset
 * aligned to general.alignment (default 32) with zero padding. The file appears atomically:
 * it is written to a temporary name in the same folder and renamed over the target.
 */
export function writeGguf(path: string, input: GgufWriteInput): void {
  const alignment = alignmentOf(input.metadata);
  checkTensors(input.tensors);
  const header = new ByteWriter();
  header.raw(Buffer.from(GGUF_MAGIC, 'latin1'));
  header.u32(GGUF_VERSION);
  header.u64(BigInt(input.tensors.length));
  header.u64(BigInt(input.metadata.size));
  for (const [key, value] of input.metadata) {
    header.string(key);
    writeValue(header, key, value);
  }
  let offset = 0;
  for (const t of input.tensors) {
    header.string(t.name);
    header.u32(t.dims.length);
    for (const d of t.dims) header.u64(BigInt(d));
    header.u32(t.type);
    header.u64(BigInt(offset));
    offset += alignUp(tensorByteSize(t.type, t.dims), alignment);
  }
  header.pad(alignment);

  writeFileAtomic(path, (put) => {
    put(header.bytes());
    const zeros = new Uint8Array(alignment);
    for (const t of input.tensors) {
      const data = typeof t.data === 'function' ? t.data() : t.data;
      const expected = tensorByteSize(t.type, t.dims);
      if (data.length !== expected) throw new Error(`tensor ${t.name}: ${data.length} bytes of data, expected ${expected}`);
      put(data);
      const padding = alignUp(data.length, alignment) - data.length;
      if (padding > 0) put(zeros.subarray(0, padding));
    }
  });
}

function alignmentOf(metadata: GgufMetadata): number {
  const v = metadata.get('general.alignment');
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (v.type !== GgufValueType.UINT32) throw new Error('general.alignment must be a UINT32');
  const a = v.value as number;
  if (a === 0 || (a & (a - 1)) !== 0) throw new Error(`general.alignment ${a} is not a power of 2`);
  return a;
}

function checkTensors(tensors: GgufTensorData[]): void {
  const names = new Set<string>();
  for (const t of tensors) {
    if (Buffer.byteLength(t.name) >= GGUF_MAX_TENSOR_NAME) throw new Error(`tensor name ${t.name} is ${GGUF_MAX_TENSOR_NAME} bytes or longer`);
    if (names.has(t.name)) throw new Error(`duplicate tensor ${t.name}`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > GGUF_MAX_DIMS) throw new Error(`tensor ${t.name} has ${t.dims.length} dimensions`);
    if (t.dims.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`tensor ${t.name} has bad dimensions ${t.dims.join('x')}`);
    const block = ggmlBlockSize(t.type);
    if (t.dims[0]! % block !== 0) throw new Error(`tensor ${t.name}: ${ggmlTypeName(t.type)} needs rows of a multiple of ${block}, got ${t.dims[0]}`);
  }
}

function writeValue(w: ByteWriter, key: string, v: GgufValue): void {
  w.u32(v.type);
  if (v.type === GgufValueType.ARRAY) {
    w.u32(v.itemType);
    w.u64(BigInt(v.value.length));
    for (const item of v.value) writeScalar(w, key, v.itemType, item);
    return;
  }
  writeScalar(w, key, v.type, v.value);
}

function writeScalar(w: ByteWriter, key: string, type: GgufScalarType, value: GgufScalar): void {
  const bad = (): Error => new Error(`metadata ${key}: ${String(value)} is not a valid ${GgufValueType[type]}`);
  const int = (min: number, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad();
    return value;
  };
  switch (type) {
    case GgufValueType.UINT8: return w.view(1).setUint8(0, int(0, 0xff));
    case GgufValueType.INT8: return w.view(1).setInt8(0, int(-0x80, 0x7f));
    case GgufValueType.UINT16: return w.view(2).setUint16(0, int(0, 0xffff), true);
    case GgufValueType.INT16: return w.view(2).setInt16(0, int(-0x8000, 0x7fff), true);
    case GgufValueType.UINT32: return w.view(4).setUint32(0, int(0, 0xffffffff), true);
    case GgufValueType.INT32: return w.view(4).setInt32(0, int(-0x80000000, 0x7fffffff), true);
    case GgufValueType.FLOAT32:
      if (typeof value !== 'number') throw bad();
      return w.view(4).setFloat32(0, value, true);
    case GgufValueType.FLOAT64:
      if (typeof value !== 'number') throw bad();
      return w.view(8).setFloat64(0, value, true);
    case GgufValueType.BOOL:
      if (typeof value !== 'boolean') throw bad();
      return w.view(1).setUint8(0, value ? 1 : 0);
    case GgufValueType.STRING:
      if (typeof value !== 'string') throw bad();
      return w.string(value);
    case GgufValueType.UINT64:
      if (typeof value !== 'bigint' || value < 0n) throw bad();
      return w.u64(value);
    case GgufValueType.INT64:
      if (typeof value !== 'bigint') throw bad();
      return w.view(8).setBigInt64(0, value, true);
  }
}

/** A growable little-endian byte buffer for the header. */
class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  view(n: number): DataView {
    const at = this.reserve(n);
    return new DataView(this.buf.buffer, at, n);
  }

  raw(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
  }

  u32(v: number): void {
    this.view(4).setUint32(0, v, true);
  }

  u64(v: bigint): void {
    this.view(8).setBigUint64(0, v, true);
  }

  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(BigInt(bytes.length));
    this.raw(bytes);
  }

  pad(alignment: number): void {
    this.reserve(alignUp(this.length, alignment) - this.length);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
