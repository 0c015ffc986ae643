/** IEEE half <-> float conversions, bit-exact with the addon's (f32 -> f16 rounds to nearest even). */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

export function f32ToF16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const ax = x & 0x7fffffff;
  if (ax >= 0x47800000) return sign | (ax > 0x7f800000 ? 0x7e00 : 0x7c00);
  if (ax < 0x38800000) {
    // subnormal or zero: units of 2^-24, rounded half to even
    const units = Math.abs(f32[0]!) * 2 ** 24;
    let r = Math.floor(units);
    const frac = units - r;
    if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
    return sign | r;
  }
  const odd = (ax >>> 13) & 1;
  return sign | (((ax + 0xc8000000 + 0xfff + odd) >>> 13) & 0xffff);
}

/** Rounds to the nearest integer, ties to even (rintf in the default rounding mode). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** roundf: ties away from zero. */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}
