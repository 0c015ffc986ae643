/**
 * safetensors (Hugging Face): u64 LE header length N, N bytes of JSON
 *   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, "__metadata__": {..} }
 * then the tensor bytes (little-endian, row-major), offsets relative to the end of the header.
 * Written with F32 values; read from F32, F16 or BF16 (what PEFT adapters are saved in).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { errorMessage, InputError } from '../../util/errors.js';
import { bf16BitsToF32, f16BitsToF32 } from '../gguf/quant.js';

export interface SafeTensor {
  shape: number[];
  /** Decoded to f32. */
  data: Float32Array;
  dtype: 'F32' | 'F16' | 'BF16';
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;

/** Writes F32 tensors in the given order; the header is padded with spaces to 8 bytes. */
export function writeSafetensors(path: string, tensors: ReadonlyArray<{ name: string; shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors ${t.name}: shape ${t.shape.join('x')} needs ${n} values, got ${t.data.length}`);
    if (t.name in header) throw new Error(`safetensors: tensor ${t.name} appears twice`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileAtomic(path, (put) => {
    put(head);
    put(Buffer.from(json, 'utf8'));
    for (const t of tensors) put(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${errorMessage(err)})`, err);
  }
  if (bytes.length < 8) throw new InputError(`${path}: not a safetensors file (shorter than its 8-byte header length)`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength < 2 || 8 + headerLength > bytes.length) throw new InputError(`${path}: not a safetensors file (header length ${headerLength} does not fit the file)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`${path}: safetensors header is not valid JSON (${errorMessage(err)})`, err);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new InputError(`${path}: safetensors header is not a JSON object`);
  const data = bytes.subarray(8 + headerLength);
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    tensors.set(name, decodeTensor(path, name, value, data));
  }
  return { tensors, metadata };
}

function decodeTensor(path: string, name: string, value: unknown, data: Buffer): SafeTensor {
  const bad = (why: string): InputError => new InputError(`${path}: tensor ${name}: ${why}`);
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!v || typeof v !== 'object') throw bad('entry is not an object');
  if (v.dtype !== 'F32' && v.dtype !== 'F16' && v.dtype !== 'BF16') throw bad(`dtype ${JSON.stringify(v.dtype)} is not supported (F32, F16 or BF16)`);
  if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad('shape is not a list of sizes');
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) throw bad('data_offsets is not [begin, end]');
  const [begin, end] = offsets as [number, number];
  const shape = v.shape as number[];
  const n = shape.reduce((a, b) => a * b, 1);
  const width = DTYPE_BYTES[v.dtype];
  if (end < begin || end > data.length) throw bad(`data_offsets [${begin}, ${end}] lie outside the ${data.length} data bytes`);
  if (end - begin !== n * width) throw bad(`holds ${end - begin} bytes, but shape ${shape.join('x')} of ${v.dtype} needs ${n * width}`);
  const raw = data.subarray(begin, end);
  const out = new Float32Array(n);
  if (v.dtype === 'F32') new Uint8Array(out.buffer).set(raw);
  else {
    const decode = v.dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32;
    for (let i = 0; i < n; i++) out[i] = decode(raw.readUInt16LE(2 * i));
  }
  return { shape, data: out, dtype: v.dtype };
}
