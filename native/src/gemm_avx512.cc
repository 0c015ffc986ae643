// AVX-512F f32 GEMM: 14 x 32 register tile (28 zmm accumulators), compiled with -mavx512f and
// only ever called after cpu.cc saw the features at run time.
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "f16.h"
#include "kernels.h"

namespace fsk {
namespace {

struct P {
  static constexpr int MR = 14;
  static constexpr int NR = 32;
  static constexpr int64_t MC = 14 * 8;
  static constexpr int64_t KC = 768;
  static constexpr int64_t NC = 1024;

  // c[MR, NR] (ldc) = alpha * a.b (+ beta * c); a: kc groups of MR, b: kc groups of NR
  static inline void ukernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                             float alpha, float beta) {
    ukernel_r<MR>(kc, a, b, c, ldc, alpha, beta);
  }

  // first mr (< MR) rows of a tile with all NR columns, straight into c; same arithmetic as ukernel
  static void ukernel_rows(int64_t mr, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                           float beta) {
    switch (mr) {
      case 1: ukernel_r<1>(kc, a, b, c, ldc, alpha, beta); break;
      case 2: ukernel_r<2>(kc, a, b, c, ldc, alpha, beta); break;
      case 3: ukernel_r<3>(kc, a, b, c, ldc, alpha, beta); break;
      case 4: ukernel_r<4>(kc, a, b, c, ldc, alpha, beta); break;
      case 5: ukernel_r<5>(kc, a, b, c, ldc, alpha, beta); break;
      case 6: ukernel_r<6>(kc, a, b, c, ldc, alpha, beta); break;
      case 7: ukernel_r<7>(kc, a, b, c, ldc, alpha, beta); break;
      case 8: ukernel_r<8>(kc, a, b, c, ldc, alpha, beta); break;
      case 9: ukernel_r<9>(kc, a, b, c, ldc, alpha, beta); break;
      case 10: ukernel_r<10>(kc, a, b, c, ldc, alpha, beta); break;
      case 11: ukernel_r<11>(kc, a, b, c, ldc, alpha, beta); break;
      case 12: ukernel_r<12>(kc, a, b, c, ldc, alpha, beta); break;
      case 13: ukernel_r<13>(kc, a, b, c, ldc, alpha, beta); break;
      default: ukernel_r<MR>(kc, a, b, c, ldc, alpha, beta); break;
    }
  }

  template <int R>
  static inline void ukernel_r(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                               float alpha, float beta) {
    static_assert(R >= 1 && R <= MR, "rows");
    __m512 acc[R][2];
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      acc[i][0] = _mm512_setzero_ps();
      acc[i][1] = _mm512_setzero_ps();
    }
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_loadu_ps(b);
      const __m512 b1 = _mm512_loadu_ps(b + 16);
      _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) {
        const __m512 ai = _mm512_set1_ps(a[i]);
        acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
      }
      a += MR;
      b += NR;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      float* ci = c + i * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < 2; ++v) {
        __m512 r;
        if (beta == 0.0f) {
          r = _mm512_mul_ps(va, acc[i][v]);
        } else if (beta == 1.0f) {
          r = _mm512_fmadd_ps(va, acc[i][v], _mm512_loadu_ps(ci + 16 * v));
        } else {
          r = _mm512_fmadd_ps(va, acc[i][v], _mm512_mul_ps(vb, _mm512_loadu_ps(ci + 16 * v)));
        }
        _mm512_storeu_ps(ci + 16 * v, r);
      }
    }
  }

  static inline float dot(const float* a, const float* b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 64 <= n; k += 64) {
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), s0);
      s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16), s1);
      s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 32), _mm512_loadu_ps(b + k + 32), s2);
      s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 48), _mm512_loadu_ps(b + k + 48), s3);
    }
    for (; k + 16 <= n; k += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), s0);
    if (k < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - k)) - 1u);
      s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
  }

  // sum_b d_b * sum_l a[32b + l] * q_b[l]
  static inline float dot_q8(const float* a, const uint8_t* row, int64_t nblocks) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (int64_t b = 0; b < nblocks; ++b) {
      const uint8_t* blk = row + b * kQ8BlockBytes;
      const __m512 d = _mm512_set1_ps(fsk_load_f16(blk));
      const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
      const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 18));
      const __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0));
      const __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1));
      const __m512 p = _mm512_fmadd_ps(_mm512_loadu_ps(a + 32 * b + 16), w1, _mm512_mul_ps(_mm512_loadu_ps(a + 32 * b), w0));
      if (b & 1) s1 = _mm512_fmadd_ps(d, p, s1);
      else s0 = _mm512_fmadd_ps(d, p, s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  }
};

// 16x16 transpose of r (rows) in registers: afterwards r[c] holds column c.
static inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 1]), e = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, e));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, e));
  }
  // r[4i + e] lane L = rows 4i..4i+3 of column 4L + e
#pragma GCC unroll 4
  for (int e = 0; e < 4; ++e) {
    const __m512 s0 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88);
    const __m512 s1 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xdd);
    const __m512 s2 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88);
    const __m512 s3 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xdd);
    t[e] = _mm512_shuffle_f32x4(s0, s2, 0x88);
    t[4 + e] = _mm512_shuffle_f32x4(s1, s3, 0x88);
    t[8 + e] = _mm512_shuffle_f32x4(s0, s2, 0xdd);
    t[12 + e] = _mm512_shuffle_f32x4(s1, s3, 0xdd);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// d[k * NR + j] = src[j * ld + k] for a full panel (cols == NR); exact copies, so the bits match
// the scalar pack. Returns false (nothing written) when the panel is partial.
static inline bool pack_bt_panel(const float* src, int64_t ld, int64_t kc, int64_t cols, float* d) {
  if (cols != P::NR) return false;
  int64_t k = 0;
  for (; k + 16 <= kc; k += 16) {
#pragma GCC unroll 2
    for (int h = 0; h < P::NR / 16; ++h) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + (16 * h + i) * ld + k);
      transpose16(r);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) _mm512_storeu_ps(d + (k + i) * P::NR + 16 * h, r[i]);
    }
  }
  for (; k < kc; ++k)
    for (int64_t j = 0; j < P::NR; ++j) d[k * P::NR + j] = src[j * ld + k];
  return true;
}
#define FSK_PACK_BT_PANEL pack_bt_panel

// d[k * MR + i] = src[i * ld + k] for a full A panel (rows == MR); exact copies.
static inline bool pack_a_panel(const float* src, int64_t ld, int64_t kc, int64_t rows, float* d) {
  static_assert(P::MR <= 16, "one transpose per 16 k");
  if (rows != P::MR) return false;
  const __mmask16 m = static_cast<__mmask16>((1u << P::MR) - 1u);
  int64_t k = 0;
  for (; k + 16 <= kc; k += 16) {
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) r[i] = i < P::MR ? _mm512_loadu_ps(src + i * ld + k) : _mm512_setzero_ps();
    transpose16(r);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) _mm512_mask_storeu_ps(d + (k + i) * P::MR, m, r[i]);
  }
  for (; k < kc; ++k)
    for (int64_t i = 0; i < P::MR; ++i) d[k * P::MR + i] = src[i * ld + k];
  return true;
}
#define FSK_PACK_A_PANEL pack_a_panel
#define FSK_HAVE_UKERNEL_ROWS 1

#include "gemm_impl.h"

// quantize_q8_0_activations with AVX-512: amax, x * (127/amax), round half to even, narrow to int8.
void quantize_acts(const float* x, int64_t rows, int64_t K, int64_t ldx, int8_t* q, float* d, bool unsigned_x) {
  const int64_t nb = K / kQ8Block;
  const __m128i flip = _mm_set1_epi8(unsigned_x ? static_cast<char>(0x80) : 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = x + r * ldx + b * kQ8Block;
      const __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
      const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
      d[r * nb + b] = fsk_f16_to_f32(fsk_f32_to_f16(amax / 127.0f));
      const __m512 mul = _mm512_set1_ps(id);
      const int rnd = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
      const __m512i i0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v0, mul), rnd));
      const __m512i i1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v1, mul), rnd));
      int8_t* o = q + r * K + b * kQ8Block;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_xor_si128(_mm512_cvtepi32_epi8(i0), flip));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 16), _mm_xor_si128(_mm512_cvtepi32_epi8(i1), flip));
    }
  }
}

}  // namespace

const IsaKernels kAvx512Kernels = {
    "avx512", P::MC * P::KC, P::KC * P::NC, P::MR, sgemm_entry, sgemv_entry,
    // Q8 x Q8: cpu.cc swaps in the VNNI panel kernel when the CPU has it, else the AVX2 one
    false, 16, q8_panel_bytes_avx2, q8_panel_avx2, q8_direct_impl, quantize_acts,
};

}  // namespace fsk
