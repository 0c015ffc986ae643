// Portable kernels (no ISA flags beyond the compiler's default): the path for CPUs without AVX2 and
// for non-x86 machines. Same driver and packing as the SIMD variants, with a plain C++ micro-kernel.
#include <math.h>
#include <string.h>

#include "f16.h"
#include "kernels.h"

namespace fsk {
namespace {

struct P {
  static constexpr int MR = 4;
  static constexpr int NR = 8;
  static constexpr int64_t MC = 4 * 32;
  static constexpr int64_t KC = 256;
  static constexpr int64_t NC = 1024;

  static inline void ukernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                             float alpha, float beta);

  static inline float dot(const float* a, const float* b, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t k = 0;
    for (; k + 8 <= n; k += 8)
      for (int l = 0; l < 8; ++l) acc[l] += a[k + l] * b[k + l];
    float s = 0.0f;
    for (int l = 0; l < 8; ++l) s += acc[l];
    for (; k < n; ++k) s += a[k] * b[k];
    return s;
  }

  static inline float dot_q8(const float* a, const uint8_t* row, int64_t nblocks) {
    float s = 0.0f;
    for (int64_t b = 0; b < nblocks; ++b) {
      const uint8_t* blk = row + b * kQ8BlockBytes;
      const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int g = 0; g < kQ8Block; g += 8)
        for (int l = 0; l < 8; ++l) acc[l] += a[32 * b + g + l] * static_cast<float>(q[g + l]);
      float p = 0.0f;
      for (int l = 0; l < 8; ++l) p += acc[l];
      s += fsk_load_f16(blk) * p;
    }
    return s;
  }
};

}  // namespace
namespace {
#include "gemm_impl.h"

inline void P::ukernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                       float alpha, float beta) {
  float acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = 0.0f;
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
    a += MR;
    b += NR;
  }
  merge_tile(c, ldc, &acc[0][0], NR, MR, NR, alpha, beta);
}

}  // namespace

const IsaKernels kScalarKernels = {
    "scalar", P::MC * P::KC, P::KC * P::NC, P::MR, sgemm_entry, sgemv_entry,
    false, 0, nullptr, nullptr, q8_direct_impl, quantize_q8_0_activations,
};

}  // namespace fsk
