// Q8_0 (ggml block_q8_0: f16 scale d, then 32 int8 q; value = d * q) conversions.
#include <math.h>
#include <string.h>

#include "f16.h"
#include "kernels.h"

namespace fsk {

void quantize_q8_0_rows(const float* x, int64_t rows, int64_t cols, uint8_t* out) {
  const int64_t nb = cols / kQ8Block;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = x + r * cols + b * kQ8Block;
      uint8_t* blk = out + (r * nb + b) * kQ8BlockBytes;
      float amax = 0.0f;
      for (int l = 0; l < kQ8Block; ++l) amax = fmaxf(amax, fabsf(v[l]));
      const float d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      const uint16_t h = fsk_f32_to_f16(d);
      blk[0] = static_cast<uint8_t>(h & 0xff);
      blk[1] = static_cast<uint8_t>(h >> 8);
      int8_t* q = reinterpret_cast<int8_t*>(blk + 2);
      for (int l = 0; l < kQ8Block; ++l) q[l] = static_cast<int8_t>(roundf(v[l] * id));
    }
  }
}

void dequantize_q8_0_rows(const uint8_t* w, int64_t rows, int64_t cols, float* out) {
  const int64_t nb = cols / kQ8Block;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + (r * nb + b) * kQ8BlockBytes;
      const float d = fsk_load_f16(blk);
      const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
      float* o = out + r * cols + b * kQ8Block;
      for (int l = 0; l < kQ8Block; ++l) o[l] = d * static_cast<float>(q[l]);
    }
  }
}

void quantize_q8_0_activations(const float* x, int64_t rows, int64_t K, int64_t ldx, int8_t* q, float* d,
                               bool unsigned_x) {
  const int64_t nb = K / kQ8Block;
  const uint8_t flip = unsigned_x ? 0x80 : 0x00;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = x + r * ldx + b * kQ8Block;
      float amax = 0.0f;
      for (int l = 0; l < kQ8Block; ++l) amax = fmaxf(amax, fabsf(v[l]));
      const float scale = amax / 127.0f;
      const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
      d[r * nb + b] = fsk_f16_to_f32(fsk_f32_to_f16(scale));
      int8_t* o = q + r * K + b * kQ8Block;
      for (int l = 0; l < kQ8Block; ++l) {
        // Round half to even, like _mm256_round_ps(_MM_ROUND_NEAREST).
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(__FMA__)
        // Adding and subtracting 1.5 * 2^23 leaves the nearest integer (|x| <= 127 here) without
        // a call to rintf; safe only where x * id cannot be contracted into an FMA.
        const float r = (v[l] * id + 12582912.0f) - 12582912.0f;
#else
        const float r = rintf(v[l] * id);
#endif
        o[l] = static_cast<int8_t>(static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(r))) ^ flip);
      }
    }
  }
}

}  // namespace fsk
