import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, errorMessage } from '../../util/errors.js';
import { dequantizeQ8_0, bf16BitsToF32, f16BitsToF32 } from './quant.js';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GgmlType,
  GgufValueType,
  ggmlBlockSize,
  ggmlTypeName,
  isKnownGgmlType,
  tensorByteSize,
  elementCount,
  alignUp,
  type GgufFile,
  type GgufMetadata,
  type GgufScalar,
  type GgufScalarType,
  type GgufTensorInfo,
  type GgufValue,
} from './types.js';

/** Beyond these counts a header is corrupt, not big: they keep a bad file from allocating gigabytes. */
const MAX_COUNT = 1n << 32n;
const WINDOW = 1 << 20;

/**
 * Reads a GGUF header (metadata and tensor infos) through a moving window over the file, so a
 * multi-gigabyte model costs only its header. Every problem is one InputError naming the file.
 */
export function readGguf(path: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(`${path}: cannot open GGUF file (${errorMessage(err)})`, err);
  }
  try {
    return parseHeader(new FileCursor(fd, path));
  } finally {
    closeSync(fd);
  }
}

function parseHeader(c: FileCursor): GgufFile {
  if (c.size < 4) throw c.fail(`not a GGUF file (only ${c.size} bytes)`);
  const magic = c.bytes(4, 'magic');
  const magicText = Buffer.from(magic).toString('latin1');
  if (magicText !== GGUF_MAGIC) {
    throw c.fail(`not a GGUF file (magic ${JSON.stringify(magicText)}, expected "GGUF")`);
  }
  const version = c.u32('version');
  if (version === 1) throw c.fail('GGUF version 1 is not supported (re-convert the model with a current llama.cpp)');
  if (version !== 2 && version !== 3) {
    // A big-endian file stores version 3 as 0x03000000.
    const bigEndian = version !== 0 && (version & 0xffff) === 0;
    throw c.fail(bigEndian ? 'big-endian GGUF files are not supported' : `unsupported GGUF version ${version}`);
  }
  const tensorCount = c.count('tensor count');
  const kvCount = c.count('metadata count');

  const metadata: GgufMetadata = new Map();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key #${i}`);
    if (metadata.has(key)) throw c.fail(`duplicate metadata key ${key}`);
    const type = c.u32(`type of metadata key ${key}`);
    metadata.set(key, readValue(c, type, key));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignValue = metadata.get('general.alignment');
  if (alignValue !== undefined) {
    if (alignValue.type !== GgufValueType.UINT32) throw c.fail(`general.alignment must be a UINT32, found ${GgufValueType[alignValue.type]}`);
    alignment = alignValue.value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw c.fail(`general.alignment ${alignment} is not a power of 2`);
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`name of tensor #${i}`);
    if (names.has(name)) throw c.fail(`duplicate tensor name ${name}`);
    names.add(name);
    const nDims = c.u32(`dimension count of tensor ${name}`);
    if (nDims > GGUF_MAX_DIMS) throw c.fail(`tensor ${name} has ${nDims} dimensions (at most ${GGUF_MAX_DIMS})`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const n = c.u64(`dimension ${d} of tensor ${name}`);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw c.fail(`tensor ${name} dimension ${d} is ${n}, too large`);
      dims.push(Number(n));
    }
    const type = c.u32(`type of tensor ${name}`);
    if (!isKnownGgmlType(type)) throw c.fail(`tensor ${name} has unknown ggml type ${type}`);
    const block = ggmlBlockSize(type);
    if ((dims[0] ?? 1) % block !== 0) {
      throw c.fail(`tensor ${name} (${ggmlTypeName(type)}) has ${dims[0]} elements per row, not a multiple of ${block}`);
    }
    const offset = c.u64(`data offset of tensor ${name}`);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw c.fail(`tensor ${name} offset ${offset} is too large`);
    tensors.push({
      name,
      dims,
      type,
      offset: Number(offset),
      byteSize: tensorByteSize(type, dims),
      elements: elementCount(dims),
    });
  }

  const dataOffset = alignUp(c.position, alignment);
  let expected = 0;
  for (const t of tensors) {
    if (t.offset !== expected) {
      throw c.fail(`tensor ${t.name} has data offset ${t.offset}, expected ${expected} (corrupt tensor table)`);
    }
    if (dataOffset + t.offset + t.byteSize > c.size) {
      throw c.fail(`tensor ${t.name} data ends at byte ${dataOffset + t.offset + t.byteSize} but the file has ${c.size} bytes (truncated?)`);
    }
    expected += alignUp(t.byteSize, alignment);
  }
  return { path: c.path, version, alignment, metadata, tensors, dataOffset, fileSize: c.size };
}

function readValue(c: FileCursor, type: number, key: string): GgufValue {
  if (type === GgufValueType.ARRAY) {
    const itemType = c.u32(`array item type of ${key}`);
    if (itemType === GgufValueType.ARRAY) throw c.fail(`metadata key ${key} is a nested array (not supported)`);
    if (!isScalarType(itemType)) throw c.fail(`metadata key ${key} has unknown array item type ${itemType}`);
    const n = c.count(`array length of ${key}`);
    const value: GgufScalar[] = new Array(n);
    for (let i = 0; i < n; i++) value[i] = readScalar(c, itemType, key);
    return { type: GgufValueType.ARRAY, itemType, value };
  }
  if (!isScalarType(type)) throw c.fail(`metadata key ${key} has unknown value type ${type}`);
  return { type, value: readScalar(c, type, key) };
}

function readScalar(c: FileCursor, type: GgufScalarType, key: string): GgufScalar {
  const what = `value of ${key}`;
  switch (type) {
    case GgufValueType.UINT8: return c.view(1, what).getUint8(0);
    case GgufValueType.INT8: return c.view(1, what).getInt8(0);
    case GgufValueType.UINT16: return c.view(2, what).getUint16(0, true);
    case GgufValueType.INT16: return c.view(2, what).getInt16(0, true);
    case GgufValueType.UINT32: return c.u32(what);
    case GgufValueType.INT32: return c.view(4, what).getInt32(0, true);
    case GgufValueType.FLOAT32: return c.view(4, what).getFloat32(0, true);
    case GgufValueType.BOOL: {
      const b = c.view(1, what).getUint8(0);
      if (b > 1) throw c.fail(`metadata key ${key} has bool value ${b}`);
      return b === 1;
    }
    case GgufValueType.STRING: return c.string(what);
    case GgufValueType.UINT64: return c.u64(what);
    case GgufValueType.INT64: return c.view(8, what).getBigInt64(0, true);
    case GgufValueType.FLOAT64: return c.view(8, what).getFloat64(0, true);
  }
}

function isScalarType(t: number): t is GgufScalarType {
  return Number.isInteger(t) && t >= 0 && t <= GgufValueType.FLOAT64 && t !== GgufValueType.ARRAY;
}

/** Sequential little-endian reads through a window that is refilled from the file on demand. */
class FileCursor {
  readonly size: number;
  private window = new Uint8Array(0);
  private windowStart = 0;
  position = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(
    private readonly fd: number,
    readonly path: string,
  ) {
    this.size = fstatSync(fd).size;
  }

  fail(message: string): InputError {
    return new InputError(`${this.path}: ${message}`);
  }

  bytes(n: number, what: string): Uint8Array {
    if (this.position + n > this.size) {
      throw this.fail(`truncated GGUF: ${what} at byte ${this.position} needs ${n} bytes but the file has ${this.size}`);
    }
    const offsetInWindow = this.position - this.windowStart;
    if (offsetInWindow < 0 || offsetInWindow + n > this.window.length) {
      const length = Math.min(Math.max(n, WINDOW), this.size - this.position);
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const r = readSync(this.fd, buf, got, length - got, this.position + got);
        if (r === 0) break;
        got += r;
      }
      if (got < n) throw this.fail(`truncated GGUF: could read only ${got} of ${n} bytes for ${what}`);
      this.window = buf.subarray(0, got);
      this.windowStart = this.position;
    }
    const start = this.position - this.windowStart;
    this.position += n;
    return this.window.subarray(start, start + n);
  }

  view(n: number, what: string): DataView {
    const b = this.bytes(n, what);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  u32(what: string): number {
    return this.view(4, what).getUint32(0, true);
  }

  u64(what: string): bigint {
    return this.view(8, what).getBigUint64(0, true);
  }

  count(what: string): number {
    const n = this.u64(what);
    if (n >= MAX_COUNT) throw this.fail(`corrupt header: ${what} is ${n}`);
    return Number(n);
  }

  string(what: string): string {
    const n = this.u64(`length of ${what}`);
    if (n > BigInt(this.size - this.position)) {
      throw this.fail(`truncated or corrupt GGUF: ${what} claims ${n} bytes at byte ${this.position}, the file has ${this.size}`);
    }
    return this.decoder.decode(this.bytes(Number(n), what));
  }
}

/** The raw bytes of one tensor (for Q8_0 these are the ggml blocks as stored). */
export function readTensorBytes(file: GgufFile, tensor: GgufTensorInfo): Uint8Array {
  const out = new Uint8Array(tensor.byteSize);
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch (err) {
    throw new InputError(`${file.path}: cannot open GGUF file (${errorMessage(err)})`, err);
  }
  try {
    let got = 0;
    const base = file.dataOffset + tensor.offset;
    while (got < out.length) {
      const r = readSync(fd, out, got, out.length - got, base + got);
      if (r === 0) throw new InputError(`${file.path}: truncated GGUF: tensor ${tensor.name} data ends early at byte ${base + got}`);
      got += r;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

export function findTensor(file: GgufFile, name: string): GgufTensorInfo | undefined {
  return file.tensors.find((t) => t.name === name);
}

/** A tensor's values as f32, converting F16/BF16 and dequantizing Q8_0. */
export function readTensorF32(file: GgufFile, tensor: GgufTensorInfo): Float32Array {
  return tensorBytesToF32(readTensorBytes(file, tensor), tensor, file.path);
}

export function tensorBytesToF32(bytes: Uint8Array, tensor: Pick<GgufTensorInfo, 'name' | 'type' | 'elements'>, source: string): Float32Array {
  switch (tensor.type) {
    case GgmlType.F32:
      return new Float32Array(bytes.slice().buffer, 0, tensor.elements);
    case GgmlType.F16: {
      const bits = new Uint16Array(bytes.slice().buffer, 0, tensor.elements);
      const out = new Float32Array(tensor.elements);
      for (let i = 0; i < out.length; i++) out[i] = f16BitsToF32(bits[i]!);
      return out;
    }
    case GgmlType.BF16: {
      const bits = new Uint16Array(bytes.slice().buffer, 0, tensor.elements);
      const out = new Float32Array(tensor.elements);
      for (let i = 0; i < out.length; i++) out[i] = bf16BitsToF32(bits[i]!);
      return out;
    }
    case GgmlType.Q8_0:
      return dequantizeQ8_0(bytes, tensor.elements);
    default:
      throw new InputError(`${source}: tensor ${tensor.name} has type ${ggmlTypeName(tensor.type)}, which finesec cannot convert (F32, F16, BF16 and Q8_0 only)`);
  }
}
