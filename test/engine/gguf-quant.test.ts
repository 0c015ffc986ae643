import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  dequantizeQ8_0,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  quantizeQ8_0,
} from '../../src/engine/gguf/quant.js';

describe('f16 conversion (round to nearest even, as ggml)', () => {
  it('round-trips every finite f16 value and keeps infinities and NaN', () => {
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >>> 10) & 0x1f;
      if (exp === 31 && (h & 0x3ff) !== 0) {
        expect(Number.isNaN(f16BitsToF32(h))).toBe(true);
        continue;
      }
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
    expect(f32ToF16Bits(NaN) & 0x7fff).toBe(0x7e00);
  });

  it('rounds midpoints between neighbouring f16 values to the even one, and others to the nearest', () => {
    // Positive finite values, normal and subnormal: 0x0000 .. 0x7bff.
    for (let h = 0; h < 0x7bff; h++) {
      const lo = f16BitsToF32(h);
      const hi = f16BitsToF32(h + 1);
      const mid = (lo + hi) / 2; // exact in f32: f16 has far fewer mantissa bits
      expect(f32ToF16Bits(mid)).toBe(h % 2 === 0 ? h : h + 1);
      expect(f32ToF16Bits(-mid)).toBe((h % 2 === 0 ? h : h + 1) | 0x8000);
      expect(f32ToF16Bits(Math.fround(mid + (hi - lo) / 8))).toBe(h + 1);
      expect(f32ToF16Bits(Math.fround(mid - (hi - lo) / 8))).toBe(h);
    }
  });

  it('overflows to infinity and underflows to zero at the same points as ggml', () => {
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65519.99)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // the midpoint to "65536" rounds to even: infinity
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // half of the smallest subnormal: ties to even (0)
    expect(f32ToF16Bits(Math.fround(2 ** -25 * 1.01))).toBe(1);
    expect(f32ToF16Bits(2 ** -26)).toBe(0);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
  });
});

describe('bf16 conversion', () => {
  it('rounds to nearest even on the upper 16 bits and keeps NaN quiet', () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    // 1 + 2^-8 is exactly between bf16 1 (0x3f80) and 1 + 2^-7 (0x3f81): ties to even.
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16Bits(Math.fround(1 + 2 ** -8 + 2 ** -20))).toBe(0x3f81);
    expect(f32ToBf16Bits(-2)).toBe(0xc000);
    expect(f32ToBf16Bits(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

/** One Q8_0 block as its f16 scale bits and 32 int8 quants. */
function block(bytes: Uint8Array, b = 0): { d: number; q: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset + b * 34, 34);
  return { d: view.getUint16(0, true), q: Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + b * 34 + 2, 32)) };
}

describe('Q8_0 quantisation (ggml quantize_row_q8_0_ref)', () => {
  it('block with amax 127: d = 1, quants are the values rounded half away from zero', () => {
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = -127;
    x[2] = 63.5; // tie: away from zero -> 64
    x[3] = -63.5; // tie: -> -64 (Math.round would give -63)
    x[4] = 1.4;
    x[5] = 1.6;
    x[6] = -0.5; // -> -1
    x[7] = 0.49;
    const { d, q } = block(quantizeQ8_0(x));
    expect(d).toBe(0x3c00); // f16 1.0
    expect(q.slice(0, 8)).toEqual([127, -127, 64, -64, 1, 2, -1, 0]);
    expect(q.slice(8)).toEqual(new Array(24).fill(0));
  });

  it('block with amax 63.5: d = 0.5 (f16 0x3800), 1/d = 2', () => {
    const x = Float32Array.from({ length: 32 }, (_, i) => [0.25, -0.25, 0.75, -0.75, 63.5, -10, 0.1, 3][i % 8]!);
    const { d, q } = block(quantizeQ8_0(x));
    expect(d).toBe(0x3800);
    // 0.25*2 = 0.5 -> 1; 0.75*2 = 1.5 -> 2; 63.5*2 = 127; -10*2 = -20; 0.1*2 = 0.2 -> 0; 3*2 = 6
    expect(q.slice(0, 8)).toEqual([1, -1, 2, -2, 127, -20, 0, 6]);
    expect(q.slice(8, 16)).toEqual(q.slice(0, 8));
  });

  it('all-zero block: d = 0 and all quants 0', () => {
    const { d, q } = block(quantizeQ8_0(new Float32Array(32)));
    expect(d).toBe(0);
    expect(q).toEqual(new Array(32).fill(0));
  });

  it('blocks are independent, each with its own scale; dequantising gives d * q', () => {
    const x = new Float32Array(64);
    x[0] = 127; // block 0: d = 1
    x[32] = -63.5; // block 1: d = 0.5
    x[33] = 10;
    const bytes = quantizeQ8_0(x);
    expect(bytes.length).toBe(68);
    expect(block(bytes, 0).d).toBe(0x3c00);
    expect(block(bytes, 1).d).toBe(0x3800);
    expect(block(bytes, 1).q.slice(0, 2)).toEqual([-127, 20]);
    const back = dequantizeQ8_0(bytes, 64);
    expect(back[0]).toBe(127);
    expect(back[32]).toBe(-63.5);
    expect(back[33]).toBe(10);
  });

  it('the scale is amax/127 rounded to f16, and every value comes back within half a step', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
    const x = Float32Array.from({ length: 32 * 50 }, (_, i) => rand() * (1 + (i >> 5)) * 0.01);
    const bytes = quantizeQ8_0(x);
    const back = dequantizeQ8_0(bytes, x.length);
    for (let b = 0; b < 50; b++) {
      const slice = x.subarray(b * 32, b * 32 + 32);
      const amax = Math.max(...Array.from(slice, Math.abs));
      const { d } = block(bytes, b);
      expect(d).toBe(f32ToF16Bits(Math.fround(amax / 127)));
      const step = f16BitsToF32(d);
      for (let j = 0; j < 32; j++) expect(Math.abs(back[b * 32 + j]! - slice[j]!)).toBeLessThanOrEqual(step * 0.5 + amax * 2 ** -10);
    }
  });

  it('refuses a length that is not a multiple of 32', () => {
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/multiple of 32/);
  });
});
