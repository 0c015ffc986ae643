// AVX2 + FMA kernels: f32 GEMM with a 6 x 16 register tile (12 ymm accumulators) and the Q8 x Q8
// panel kernel built on maddubs. Compiled with -mavx2 -mfma; called only after the run-time check.
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "f16.h"
#include "kernels.h"

namespace fsk {
namespace {

static inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

struct P {
  static constexpr int MR = 6;
  static constexpr int NR = 16;
  static constexpr int64_t MC = 6 * 24;
  static constexpr int64_t KC = 256;
  static constexpr int64_t NC = 2048;

  static inline void ukernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                             float alpha, float beta) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      acc[i][0] = _mm256_setzero_ps();
      acc[i][1] = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_loadu_ps(b);
      const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + i);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
      }
      a += MR;
      b += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < 2; ++v) {
        __m256 r;
        if (beta == 0.0f) {
          r = _mm256_mul_ps(va, acc[i][v]);
        } else if (beta == 1.0f) {
          r = _mm256_fmadd_ps(va, acc[i][v], _mm256_loadu_ps(ci + 8 * v));
        } else {
          r = _mm256_fmadd_ps(va, acc[i][v], _mm256_mul_ps(vb, _mm256_loadu_ps(ci + 8 * v)));
        }
        _mm256_storeu_ps(ci + 8 * v, r);
      }
    }
  }

  static inline float dot(const float* a, const float* b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= n; k += 32) {
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
      s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 16), _mm256_loadu_ps(b + k + 16), s2);
      s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 24), _mm256_loadu_ps(b + k + 24), s3);
    }
    for (; k + 8 <= n; k += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; k < n; ++k) s = fmaf(a[k], b[k], s);
    return s;
  }

  static inline float dot_q8(const float* a, const uint8_t* row, int64_t nblocks) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; ++b) {
      const uint8_t* blk = row + b * kQ8BlockBytes;
      const __m256 d = _mm256_set1_ps(fsk_load_f16(blk));
      const float* ab = a + 32 * b;
      __m256 p = _mm256_setzero_ps();
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 2 + 8 * g));
        p = _mm256_fmadd_ps(_mm256_loadu_ps(ab + 8 * g), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), p);
      }
      if (b & 1) s1 = _mm256_fmadd_ps(d, p, s1);
      else s0 = _mm256_fmadd_ps(d, p, s0);
    }
    return hsum256(_mm256_add_ps(s0, s1));
  }
};

#include "gemm_impl.h"

// Q8 x Q8 panel: 16 rows of W, per block 8 groups of [16 rows][4 bytes] (512 bytes) then 16 scales.
constexpr int kNp = 16;
constexpr int64_t kPanelBlockBytes = 512 + 64;

void pack_panel(const Q8Task& t, int64_t n0, uint8_t* panel) {
  const int64_t nb = t.K / kQ8Block;
  const int64_t rows = imin(kNp, t.N - n0);
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* pb = panel + b * kPanelBlockBytes;
    float* pd = reinterpret_cast<float*>(pb + 512);
    for (int64_t n = 0; n < kNp; ++n) {
      if (n < rows) {
        const uint8_t* blk = t.W + (n0 + n) * t.ldw + b * kQ8BlockBytes;
        pd[n] = fsk_load_f16(blk);
        for (int g = 0; g < 8; ++g) memcpy(pb + (g * kNp + n) * 4, blk + 2 + 4 * g, 4);
      } else {
        pd[n] = 0.0f;
        for (int g = 0; g < 8; ++g) memset(pb + (g * kNp + n) * 4, 0, 4);
      }
    }
  }
}

// R rows of x against one packed panel: y[m0+r, n0 : n0+rows_n]
template <int R>
void panel_tile(const Q8Task& t, const uint8_t* panel, int64_t m0, int64_t n0, int64_t rows_n) {
  const int64_t nb = t.K / kQ8Block;
  const int8_t* x[R];
  const float* xd[R];
  for (int r = 0; r < R; ++r) {
    x[r] = t.xq + (m0 + r) * t.K;
    xd[r] = t.xd + (m0 + r) * nb;
  }
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 f[R][2];
  for (int r = 0; r < R; ++r) f[r][0] = f[r][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + b * kPanelBlockBytes;
    __m256i acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pb + g * 64));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pb + g * 64 + 32));
      // |w| as unsigned (exact for -128 too) times sign-transferred x: pairs stay below 2^15
      const __m256i a0 = _mm256_abs_epi8(w0);
      const __m256i a1 = _mm256_abs_epi8(w1);
      for (int r = 0; r < R; ++r) {
        int32_t xv;
        memcpy(&xv, x[r] + b * kQ8Block + g * 4, 4);
        const __m256i xb = _mm256_set1_epi32(xv);
        const __m256i p0 = _mm256_maddubs_epi16(a0, _mm256_sign_epi8(xb, w0));
        const __m256i p1 = _mm256_maddubs_epi16(a1, _mm256_sign_epi8(xb, w1));
        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(p0, ones));
        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(p1, ones));
      }
    }
    const __m256 d0 = _mm256_loadu_ps(reinterpret_cast<const float*>(pb + 512));
    const __m256 d1 = _mm256_loadu_ps(reinterpret_cast<const float*>(pb + 512) + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_set1_ps(xd[r][b]);
      f[r][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][0]), _mm256_mul_ps(d0, s), f[r][0]);
      f[r][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][1]), _mm256_mul_ps(d1, s), f[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    alignas(32) float out[kNp];
    _mm256_store_ps(out, f[r][0]);
    _mm256_store_ps(out + 8, f[r][1]);
    float* y = t.Y + (m0 + r) * t.ldy + n0;
    for (int64_t j = 0; j < rows_n; ++j) y[j] = t.beta == 0.0f ? out[j] : fmaf(t.beta, y[j], out[j]);
  }
}

// quantize_q8_0_activations with AVX2: amax, x * (127/amax), round half to even, pack to int8.
void quantize_acts(const float* x, int64_t rows, int64_t K, int64_t ldx, int8_t* q, float* d, bool unsigned_x) {
  const int64_t nb = K / kQ8Block;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i flip = _mm256_set1_epi8(unsigned_x ? static_cast<char>(0x80) : 0);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = x + r * ldx + b * kQ8Block;
      __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
      __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                               _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
      __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
      const float amax = _mm_cvtss_f32(m4);
      const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
      d[r * nb + b] = fsk_f16_to_f32(fsk_f32_to_f16(amax / 127.0f));
      const __m256 mul = _mm256_set1_ps(id);
      const int rnd = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
      const __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), rnd));
      const __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), rnd));
      const __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), rnd));
      const __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), rnd));
      // packs work per 128-bit lane; the permute restores element order
      const __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3)), order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + r * K + b * kQ8Block), _mm256_xor_si256(p, flip));
    }
  }
}

}  // namespace

int64_t q8_panel_bytes_avx2(int64_t K) { return (K / kQ8Block) * kPanelBlockBytes; }

void q8_panel_avx2(const Q8Task& t, uint8_t* panel) {
  for (int64_t n0 = 0; n0 < t.N; n0 += kNp) {
    const int64_t rows_n = imin(kNp, t.N - n0);
    pack_panel(t, n0, panel);
    int64_t m0 = 0;
    for (; m0 + 4 <= t.M; m0 += 4) panel_tile<4>(t, panel, m0, n0, rows_n);
    switch (t.M - m0) {
      case 3: panel_tile<3>(t, panel, m0, n0, rows_n); break;
      case 2: panel_tile<2>(t, panel, m0, n0, rows_n); break;
      case 1: panel_tile<1>(t, panel, m0, n0, rows_n); break;
      default: break;
    }
  }
}

const IsaKernels kAvx2Kernels = {
    "avx2", P::MC * P::KC, P::KC * P::NC, P::MR, sgemm_entry, sgemv_entry,
    false, kNp, q8_panel_bytes_avx2, q8_panel_avx2, q8_direct_impl, quantize_acts,
};

}  // namespace fsk
