import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { readGguf, readTensorBytes, readTensorF32, findTensor } from '../../src/engine/gguf/reader.js';
import { writeGguf } from '../../src/engine/gguf/writer.js';
import { gv, MetadataView } from '../../src/engine/gguf/metadata.js';
import { f32ArrayToBytes, f32ArrayToF16Bytes, f32ArrayToBf16Bytes, quantizeQ8_0 } from '../../src/engine/gguf/quant.js';
import { GgmlType, GgufValueType, type GgufMetadata, type GgufTensorData } from '../../src/engine/gguf/types.js';

const tmp = tempDir('finesec-gguf-');
afterAll(() => tmp.cleanup());

function ramp(n: number, scale = 0.01): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * scale * (1 + (i % 7)));
}

function everyTypeMetadata(): GgufMetadata {
  return new Map([
    ['general.architecture', gv.str('llama')],
    ['test.u8', gv.u8(255)],
    ['test.i8', gv.i8(-128)],
    ['test.u16', gv.u16(65535)],
    ['test.i16', gv.i16(-32768)],
    ['test.u32', gv.u32(4294967295)],
    ['test.i32', gv.i32(-2147483648)],
    ['test.f32', gv.f32(Math.fround(3.14159))],
    ['test.f64', gv.f64(2.718281828459045)],
    ['test.bool', gv.bool(true)],
    ['test.str', gv.str('héllo 日本 😀 "quoted"\n')],
    ['test.u64', gv.u64(18446744073709551615n)],
    ['test.i64', gv.i64(-9223372036854775808n)],
    ['test.empty_str', gv.str('')],
    ['test.arr_str', gv.strArray(['a', '', 'Ġthe', '<|im_end|>'])],
    ['test.arr_i32', gv.i32Array([1, -2, 3])],
    ['test.arr_f32', gv.f32Array([0.5, -1.25])],
    ['test.arr_u8', gv.array(GgufValueType.UINT8, [0, 1, 255])],
    ['test.arr_bool', gv.array(GgufValueType.BOOL, [true, false])],
    ['test.arr_u64', gv.array(GgufValueType.UINT64, [0n, 1n << 40n])],
    ['test.arr_empty', gv.array(GgufValueType.INT32, [])],
  ]);
}

function tensors(): GgufTensorData[] {
  const a = ramp(64 * 3);
  const b = ramp(32 * 4, 1);
  const c = ramp(5);
  const d = ramp(32 * 2, 3);
  return [
    { name: 'a.f32', dims: [64, 3], type: GgmlType.F32, data: f32ArrayToBytes(a) },
    { name: 'b.q8_0', dims: [32, 4], type: GgmlType.Q8_0, data: quantizeQ8_0(b) },
    { name: 'c.f16', dims: [5], type: GgmlType.F16, data: f32ArrayToF16Bytes(c) },
    { name: 'd.bf16', dims: [32, 2], type: GgmlType.BF16, data: f32ArrayToBf16Bytes(d) },
    { name: 'e.lazy', dims: [3], type: GgmlType.F32, data: () => f32ArrayToBytes(Float32Array.from([1, 2, 3])) },
  ];
}

describe('GGUF write -> read round trip', () => {
  it('keeps every metadata type and every tensor byte', () => {
    const path = join(tmp.dir, 'roundtrip.gguf');
    const metadata = everyTypeMetadata();
    const written = tensors();
    writeGguf(path, { metadata, tensors: written });
    const file = readGguf(path);
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(32);
    expect([...file.metadata.keys()]).toEqual([...metadata.keys()]);
    for (const [key, value] of metadata) expect(file.metadata.get(key), key).toEqual(value);
    expect(file.tensors.map((t) => [t.name, t.dims, t.type])).toEqual(written.map((t) => [t.name, t.dims, t.type]));
    for (const t of written) {
      const info = findTensor(file, t.name)!;
      const expected = typeof t.data === 'function' ? t.data() : t.data;
      expect(Buffer.from(readTensorBytes(file, info)).equals(Buffer.from(expected)), t.name).toBe(true);
      expect(info.offset % 32).toBe(0);
      expect((file.dataOffset + info.offset) % 32).toBe(0);
    }
    // Writing what was read gives the same file, byte for byte.
    const again = join(tmp.dir, 'roundtrip-again.gguf');
    writeGguf(again, {
      metadata: file.metadata,
      tensors: file.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: readTensorBytes(file, t) })),
    });
    expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
  });

  it('converts F32, F16, BF16 and Q8_0 tensors to numbers', () => {
    const path = join(tmp.dir, 'numbers.gguf');
    writeGguf(path, { metadata: new Map(), tensors: tensors() });
    const file = readGguf(path);
    const a = readTensorF32(file, findTensor(file, 'a.f32')!);
    expect(Array.from(a)).toEqual(Array.from(ramp(64 * 3)));
    const b = readTensorF32(file, findTensor(file, 'b.q8_0')!);
    const bRef = ramp(32 * 4, 1);
    // Q8_0 error is at most half a step (d / 2, d = amax / 127) plus the f16 rounding of d.
    for (let i = 0; i < b.length; i++) expect(Math.abs(b[i]! - bRef[i]!)).toBeLessThan(7 / 127 / 2 + 1e-3);
    const c = readTensorF32(file, findTensor(file, 'c.f16')!);
    ramp(5).forEach((v, i) => expect(Math.abs(c[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11));
    const d = readTensorF32(file, findTensor(file, 'd.bf16')!);
    ramp(64, 3).forEach((v, i) => expect(Math.abs(d[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8));
  });

  it('aligns the data section and every tensor to general.alignment with zero padding', () => {
    const path = join(tmp.dir, 'align64.gguf');
    const metadata: GgufMetadata = new Map([['general.alignment', gv.u32(64)]]);
    writeGguf(path, { metadata, tensors: tensors() });
    const file = readGguf(path);
    expect(file.alignment).toBe(64);
    expect(file.dataOffset % 64).toBe(0);
    const bytes = readFileSync(path);
    let expectedOffset = 0;
    for (const t of file.tensors) {
      expect(t.offset).toBe(expectedOffset);
      const end = file.dataOffset + t.offset + t.byteSize;
      const padded = Math.ceil(t.byteSize / 64) * 64;
      expect(bytes.subarray(end, file.dataOffset + t.offset + padded).every((x) => x === 0)).toBe(true);
      expectedOffset += padded;
    }
    expect(bytes.length).toBe(file.dataOffset + expectedOffset);
  });

  it('reads metadata larger than its read window (a 300k-token vocabulary)', () => {
    const path = join(tmp.dir, 'bigvocab.gguf');
    const tokens = Array.from({ length: 300_000 }, (_, i) => `tok${i}${'x'.repeat(i % 13)}`);
    writeGguf(path, { metadata: new Map([['tokenizer.ggml.tokens', gv.strArray(tokens)]]), tensors: tensors() });
    const file = readGguf(path);
    expect(new MetadataView(file.metadata, path).array('tokenizer.ggml.tokens')).toEqual(tokens);
    expect(Array.from(readTensorF32(file, findTensor(file, 'e.lazy')!))).toEqual([1, 2, 3]);
  });

  it('replaces the target atomically and leaves no temporary file behind', () => {
    const path = join(tmp.dir, 'atomic.gguf');
    writeFileSync(path, 'old content');
    expect(() =>
      writeGguf(path, { metadata: new Map(), tensors: [{ name: 'bad', dims: [4], type: GgmlType.F32, data: () => new Uint8Array(3) }] }),
    ).toThrow(/bad: 3 bytes of data, expected 16/);
    expect(readFileSync(path, 'utf8')).toBe('old content');
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    writeGguf(path, { metadata: new Map(), tensors: tensors() });
    expect(readGguf(path).tensors).toHaveLength(5);
  });

  it('rejects tensors it cannot write: bad row length for Q8_0, long or duplicate names', () => {
    const path = join(tmp.dir, 'invalid.gguf');
    const q = { name: 'q', dims: [16, 2], type: GgmlType.Q8_0, data: new Uint8Array(34) };
    expect(() => writeGguf(path, { metadata: new Map(), tensors: [q] })).toThrow(/multiple of 32/);
    const long = { name: 'x'.repeat(64), dims: [1], type: GgmlType.F32, data: new Uint8Array(4) };
    expect(() => writeGguf(path, { metadata: new Map(), tensors: [long] })).toThrow(/64 bytes or longer/);
    const one = { name: 'same', dims: [1], type: GgmlType.F32, data: new Uint8Array(4) };
    expect(() => writeGguf(path, { metadata: new Map(), tensors: [one, one] })).toThrow(/duplicate tensor same/);
    expect(existsSync(path)).toBe(false);
  });
});

describe('GGUF reader errors: one line naming the file', () => {
  const good = (): { path: string; bytes: Buffer } => {
    const path = join(tmp.dir, 'good.gguf');
    writeGguf(path, { metadata: everyTypeMetadata(), tensors: tensors() });
    return { path, bytes: readFileSync(path) };
  };

  const expectOneLine = (fn: () => unknown, pattern: RegExp): void => {
    let message = '';
    try {
      fn();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(pattern);
    expect(message.split('\n')).toHaveLength(1);
  };

  it('names a missing file', () => {
    const path = join(tmp.dir, 'missing.gguf');
    expectOneLine(() => readGguf(path), new RegExp(`^${path}: cannot open GGUF file`));
  });

  it('rejects a corrupt magic', () => {
    const { bytes } = good();
    const path = join(tmp.dir, 'magic.gguf');
    const copy = Buffer.from(bytes);
    copy.write('GGML', 0, 'latin1');
    writeFileSync(path, copy);
    expectOneLine(() => readGguf(path), new RegExp(`^${path}: not a GGUF file \\(magic "GGML", expected "GGUF"\\)$`));
    writeFileSync(path, 'GG');
    expectOneLine(() => readGguf(path), /not a GGUF file \(only 2 bytes\)/);
  });

  it('rejects an unsupported version', () => {
    const copy = Buffer.from(good().bytes);
    copy.writeUInt32LE(7, 4);
    const path = join(tmp.dir, 'version.gguf');
    writeFileSync(path, copy);
    expectOneLine(() => readGguf(path), /unsupported GGUF version 7/);
  });

  it('rejects a file truncated in the header, the metadata, the tensor table or the data (padding after the last tensor is optional, as in llama.cpp)', () => {
    const { bytes } = good();
    const file = readGguf(join(tmp.dir, 'good.gguf'));
    const path = join(tmp.dir, 'truncated.gguf');
    const last = file.tensors[file.tensors.length - 1]!;
    for (const cut of [6, 20, 200, file.dataOffset - 8, file.dataOffset + 10, file.dataOffset + last.offset + last.byteSize - 1]) {
      writeFileSync(path, bytes.subarray(0, cut));
      expectOneLine(() => readGguf(path), new RegExp(`^${path}: .*(truncated|extends|ends at byte)`));
    }
  });

  it('rejects an absurd count, an unknown value type and an unknown tensor type', () => {
    const { bytes } = good();
    const path = join(tmp.dir, 'corrupt.gguf');
    const counts = Buffer.from(bytes);
    counts.writeBigUInt64LE(1n << 60n, 16);
    writeFileSync(path, counts);
    expectOneLine(() => readGguf(path), /corrupt header: metadata count is 1152921504606846976/);

    // The first key, general.architecture, is at byte 24: length (8) + 20 bytes, then its type.
    const valueType = Buffer.from(bytes);
    valueType.writeUInt32LE(77, 24 + 8 + 'general.architecture'.length);
    writeFileSync(path, valueType);
    expectOneLine(() => readGguf(path), /metadata key general.architecture has unknown value type 77/);

    const tensorType = Buffer.from(bytes);
    // Tensor info: name length (8), name, n_dims (4), dims (8 each), type (4), offset (8).
    const nameAt = bytes.lastIndexOf(Buffer.from('e.lazy'));
    tensorType.writeUInt32LE(99, nameAt + 'e.lazy'.length + 4 + 8);
    writeFileSync(path, tensorType);
    expectOneLine(() => readGguf(path), /tensor e.lazy has unknown ggml type 99/);
  });
});
