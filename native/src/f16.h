// IEEE half <-> float conversions (static, so each translation unit has its own copy).
// f32 -> f16 rounds to nearest even like F16C's _cvtss_sh(x, 0), which ggml uses on x86.
#pragma once
#include <stdint.h>
#include <string.h>

static inline float fsk_f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    // zero or subnormal: man * 2^-24, exact in f32
    const float v = static_cast<float>(man) * 5.9604644775390625e-8f;
    memcpy(&bits, &v, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float out;
  memcpy(&out, &bits, 4);
  return out;
}

static inline uint16_t fsk_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  uint32_t h;
  if (ax >= 0x47800000u) {  // >= 65536, inf or nan (65520..65535 round up through the normal branch)
    h = ax > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (ax < 0x38800000u) {
    // below 2^-14: the result is subnormal or zero. Adding 0.5 (as a float) lines the 10 kept
    // bits up at the bottom of the mantissa and the FPU rounds to nearest even for us.
    float v;
    memcpy(&v, &ax, 4);
    v += 0.5f;
    uint32_t vb;
    memcpy(&vb, &v, 4);
    h = vb - 0x3f000000u;
  } else {
    const uint32_t odd = (ax >> 13) & 1u;
    ax += 0xc8000000u + 0xfffu + odd;  // rebias exponent (-112 << 23, mod 2^32) and round half to even
    h = ax >> 13;
  }
  return static_cast<uint16_t>(sign | h);
}

static inline float fsk_load_f16(const uint8_t* p) { return fsk_f16_to_f32(static_cast<uint16_t>(p[0] | (p[1] << 8))); }
