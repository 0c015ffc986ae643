import { InputError } from '../../util/errors.js';
import { GgufValueType, type GgufMetadata, type GgufScalar, type GgufScalarType, type GgufValue } from './types.js';

/** Constructors for typed metadata values (the GGUF type matters to llama.cpp's key readers). */
export const gv = {
  u8: (value: number): GgufValue => ({ type: GgufValueType.UINT8, value }),
  i8: (value: number): GgufValue => ({ type: GgufValueType.INT8, value }),
  u16: (value: number): GgufValue => ({ type: GgufValueType.UINT16, value }),
  i16: (value: number): GgufValue => ({ type: GgufValueType.INT16, value }),
  u32: (value: number): GgufValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufValueType.INT32, value }),
  u64: (value: bigint): GgufValue => ({ type: GgufValueType.UINT64, value }),
  i64: (value: bigint): GgufValue => ({ type: GgufValueType.INT64, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value }),
  f64: (value: number): GgufValue => ({ type: GgufValueType.FLOAT64, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.BOOL, value }),
  str: (value: string): GgufValue => ({ type: GgufValueType.STRING, value }),
  array: (itemType: GgufScalarType, value: GgufScalar[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType, value }),
  strArray: (value: string[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value }),
  i32Array: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value }),
  f32Array: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value }),
};

/** Typed reads of metadata keys; a present key of the wrong type is an input error naming the file. */
export class MetadataView {
  constructor(
    readonly metadata: GgufMetadata,
    private readonly source: string,
  ) {}

  has(key: string): boolean {
    return this.metadata.has(key);
  }

  string(key: string): string | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.STRING) throw this.wrongType(key, 'a string', v);
    return v.value as string;
  }

  number(key: string): number | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type === GgufValueType.ARRAY || v.type === GgufValueType.STRING || v.type === GgufValueType.BOOL) {
      throw this.wrongType(key, 'a number', v);
    }
    return Number(v.value);
  }

  boolean(key: string): boolean | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.BOOL) throw this.wrongType(key, 'a bool', v);
    return v.value as boolean;
  }

  array(key: string): GgufScalar[] | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.ARRAY) throw this.wrongType(key, 'an array', v);
    return v.value;
  }

  requireString(key: string): string {
    const v = this.string(key);
    if (v === undefined) throw new InputError(`${this.source}: missing metadata key ${key}`);
    return v;
  }

  requireNumber(key: string): number {
    const v = this.number(key);
    if (v === undefined) throw new InputError(`${this.source}: missing metadata key ${key}`);
    return v;
  }

  private wrongType(key: string, expected: string, v: GgufValue): InputError {
    return new InputError(`${this.source}: metadata key ${key} should be ${expected}, found ${GgufValueType[v.type]}`);
  }
}
