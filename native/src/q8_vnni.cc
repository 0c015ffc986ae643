// Q8 x Q8 panel kernel with AVX-512 VNNI (vpdpbusd), compiled with -mavx512vnni and called only
// when cpu.cc found the feature. vpdpbusd multiplies unsigned by signed bytes, so x arrives as
// q_x + 128 (XOR 0x80) and each block's accumulator starts at -128 * sum(q_w): the integer block
// sums are exact and match ggml's sum(q_x * q_w).
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "f16.h"
#include "kernels.h"

namespace fsk {
namespace {

constexpr int kNp = 32;  // W rows per panel: two zmm of 16 int32 lanes
// per block: 8 groups of [32 rows][4 bytes] (1024 bytes), 32 f32 scales, 32 int32 corrections
constexpr int64_t kPanelBlockBytes = 1024 + 128 + 128;

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

void pack_panel(const Q8Task& t, int64_t n0, uint8_t* panel) {
  const int64_t nb = t.K / kQ8Block;
  const int64_t rows = imin(kNp, t.N - n0);
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* pb = panel + b * kPanelBlockBytes;
    float* pd = reinterpret_cast<float*>(pb + 1024);
    int32_t* pc = reinterpret_cast<int32_t*>(pb + 1152);
    for (int64_t n = 0; n < kNp; ++n) {
      if (n < rows) {
        const uint8_t* blk = t.W + (n0 + n) * t.ldw + b * kQ8BlockBytes;
        const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
        int32_t sum = 0;
        for (int l = 0; l < kQ8Block; ++l) sum += q[l];
        pd[n] = fsk_load_f16(blk);
        pc[n] = -128 * sum;
        for (int g = 0; g < 8; ++g) memcpy(pb + (g * kNp + n) * 4, q + 4 * g, 4);
      } else {
        pd[n] = 0.0f;
        pc[n] = 0;
        for (int g = 0; g < 8; ++g) memset(pb + (g * kNp + n) * 4, 0, 4);
      }
    }
  }
}

template <int R>
void panel_tile(const Q8Task& t, const uint8_t* panel, int64_t m0, int64_t n0, int64_t rows_n) {
  const int64_t nb = t.K / kQ8Block;
  const uint8_t* x[R];
  const float* xd[R];
  for (int r = 0; r < R; ++r) {
    x[r] = reinterpret_cast<const uint8_t*>(t.xq) + (m0 + r) * t.K;
    xd[r] = t.xd + (m0 + r) * nb;
  }
  __m512 f[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) f[r][0] = f[r][1] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + b * kPanelBlockBytes;
    const __m512i c0 = _mm512_loadu_si512(pb + 1152);
    const __m512i c1 = _mm512_loadu_si512(pb + 1152 + 64);
    __m512i acc[R][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      acc[r][0] = c0;
      acc[r][1] = c1;
    }
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = _mm512_loadu_si512(pb + g * 128);
      const __m512i w1 = _mm512_loadu_si512(pb + g * 128 + 64);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        int32_t xv;
        memcpy(&xv, x[r] + b * kQ8Block + g * 4, 4);
        const __m512i xb = _mm512_set1_epi32(xv);
        acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], xb, w0);
        acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], xb, w1);
      }
    }
    const __m512 d0 = _mm512_loadu_ps(pb + 1024);
    const __m512 d1 = _mm512_loadu_ps(pb + 1024 + 64);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 s = _mm512_set1_ps(xd[r][b]);
      f[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][0]), _mm512_mul_ps(d0, s), f[r][0]);
      f[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][1]), _mm512_mul_ps(d1, s), f[r][1]);
    }
  }
  const __mmask16 k0 = rows_n >= 16 ? 0xffff : static_cast<__mmask16>((1u << rows_n) - 1u);
  const __mmask16 k1 = rows_n >= 32 ? 0xffff : rows_n <= 16 ? 0 : static_cast<__mmask16>((1u << (rows_n - 16)) - 1u);
  const __m512 vb = _mm512_set1_ps(t.beta);
  for (int r = 0; r < R; ++r) {
    float* y = t.Y + (m0 + r) * t.ldy + n0;
    if (t.beta == 0.0f) {
      _mm512_mask_storeu_ps(y, k0, f[r][0]);
      _mm512_mask_storeu_ps(y + 16, k1, f[r][1]);
    } else {
      _mm512_mask_storeu_ps(y, k0, _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, y), f[r][0]));
      _mm512_mask_storeu_ps(y + 16, k1, _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, y + 16), f[r][1]));
    }
  }
}

}  // namespace

int64_t q8_panel_bytes_vnni(int64_t K) { return (K / kQ8Block) * kPanelBlockBytes; }

void q8_panel_vnni(const Q8Task& t, uint8_t* panel) {
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

}  // namespace fsk
