// The packed GEMM driver, the GEMV (M == 1) path and the direct Q8 x Q8 dot kernel, written once
// and compiled once per instruction set: each ISA translation unit includes this file inside its
// own anonymous namespace after defining a policy P with
//   static constexpr int MR, NR;  static constexpr int64_t MC, KC, NC;   (KC multiple of 32)
//   static void ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta);
//       c[MR, NR] (ldc) = alpha * sum_k a[k*MR + i] * b[k*NR + j]  (+ beta * c, not read if beta == 0)
//   static float dot(const float* a, const float* b, int64_t n);
//   static float dot_q8(const float* a, const uint8_t* row, int64_t nblocks);  // sum_b d_b * sum a*q
// Everything here is static: no compiled function is shared between translation units, so code
// built with -mavx512f can never be picked by the linker for the portable path.
// The TU must include <string.h>, <math.h>, "kernels.h" and "f16.h" before including this.

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

// Same arithmetic as every ukernel's store, so edge tiles and full tiles round identically.
static inline float store_one(float c, float acc, float alpha, float beta) {
  if (beta == 0.0f) return alpha * acc;
  if (beta == 1.0f) return fmaf(alpha, acc, c);
  return fmaf(alpha, acc, beta * c);
}

// tile[mr, nr] (ldt) merged into c[mr, nr] (ldc)
static void merge_tile(float* c, int64_t ldc, const float* tile, int64_t ldt, int64_t mr, int64_t nr, float alpha,
                       float beta) {
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) c[i * ldc + j] = store_one(c[i * ldc + j], tile[i * ldt + j], alpha, beta);
}

// op(A)[i0:i0+mc, p0:p0+kc] -> MR-row panels; panel p holds kc groups of MR values (rows past M are 0).
template <int MR>
static void pack_a(const GemmTask& t, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t rows = imin(MR, mc - ip);
    float* d = dst + ip * kc;
    if (!t.transA) {
#ifdef FSK_PACK_A_PANEL
      // optional ISA-specific transposing pack of a whole panel (returns false to fall back)
      if (FSK_PACK_A_PANEL(t.A + (i0 + ip) * t.lda + p0, t.lda, kc, rows, d)) continue;
#endif
      for (int64_t i = 0; i < rows; ++i) {
        const float* src = t.A + (i0 + ip + i) * t.lda + p0;
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = src[k];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = t.A + (p0 + k) * t.lda + i0 + ip;
        for (int64_t i = 0; i < rows; ++i) d[k * MR + i] = src[i];
      }
    }
    for (int64_t i = rows; i < MR; ++i)
      for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = 0.0f;
  }
}

// op(B)[p0:p0+kc, j0:j0+nc] -> NR-column panels; panel p holds kc groups of NR values (cols past N are 0).
// Q8 kinds are dequantised here, so the micro-kernel only ever sees f32.
template <int NR>
static void pack_b(const GemmTask& t, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int64_t cols = imin(NR, nc - jp);
    const int64_t jb = j0 + jp;
    float* d = dst + jp * kc;
    switch (t.bkind) {
      case kBF32: {
        const float* B = static_cast<const float*>(t.B);
        for (int64_t k = 0; k < kc; ++k) {
          const float* src = B + (p0 + k) * t.ldb + jb;
          float* row = d + k * NR;
          for (int64_t j = 0; j < cols; ++j) row[j] = src[j];
        }
        break;
      }
      case kBF32T: {
        const float* B = static_cast<const float*>(t.B);
#ifdef FSK_PACK_BT_PANEL
        // optional ISA-specific transposing pack of a whole panel (returns false to fall back)
        if (FSK_PACK_BT_PANEL(B + jb * t.ldb + p0, t.ldb, kc, cols, d)) break;
#endif
        // 8 source rows at a time keeps 8 read streams and fills whole groups of the panel.
        int64_t j = 0;
        for (; j + 8 <= cols; j += 8) {
          const float* s0 = B + (jb + j) * t.ldb + p0;
          for (int64_t k = 0; k < kc; ++k) {
            float* o = d + k * NR + j;
            for (int r = 0; r < 8; ++r) o[r] = s0[r * t.ldb + k];
          }
        }
        for (; j < cols; ++j) {
          const float* src = B + (jb + j) * t.ldb + p0;
          for (int64_t k = 0; k < kc; ++k) d[k * NR + j] = src[k];
        }
        break;
      }
      case kBQ8RowsN: {
        const uint8_t* W = static_cast<const uint8_t*>(t.B);
        for (int64_t j = 0; j < cols; ++j) {
          const uint8_t* row = W + (jb + j) * t.ldb + (p0 / kQ8Block) * kQ8BlockBytes;
          for (int64_t k = 0; k < kc; k += kQ8Block) {
            const uint8_t* blk = row + (k / kQ8Block) * kQ8BlockBytes;
            const float scale = fsk_load_f16(blk);
            const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
            for (int l = 0; l < kQ8Block; ++l) d[(k + l) * NR + j] = scale * static_cast<float>(q[l]);
          }
        }
        break;
      }
      case kBQ8RowsK: {
        const uint8_t* W = static_cast<const uint8_t*>(t.B);
        for (int64_t k = 0; k < kc; ++k) {
          const uint8_t* row = W + (p0 + k) * t.ldb;
          float* o = d + k * NR;
          for (int64_t j = 0; j < cols;) {
            const int64_t col = jb + j;
            const int64_t off = col % kQ8Block;
            const int64_t seg = imin(kQ8Block - off, cols - j);
            const uint8_t* blk = row + (col / kQ8Block) * kQ8BlockBytes;
            const float scale = fsk_load_f16(blk);
            const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2) + off;
            for (int64_t l = 0; l < seg; ++l) o[j + l] = scale * static_cast<float>(q[l]);
            j += seg;
          }
        }
        break;
      }
    }
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t j = cols; j < NR; ++j) d[k * NR + j] = 0.0f;
  }
}

// Goto/BLIS loop order: B block (KC x NC) packed once per (jc, pc) and reused by every row block;
// A block (MC x KC) packed per row block; the micro-kernel walks MR x NR tiles.
// Results do not depend on how the caller split M or N (the K blocking is fixed), so any thread
// count gives the same bits.
template <class P>
static void sgemm_serial_impl(const GemmTask& t, float* apack, float* bpack) {
  alignas(64) float tile[P::MR * P::NR];
  for (int64_t jc = 0; jc < t.N; jc += P::NC) {
    const int64_t nc = imin(P::NC, t.N - jc);
    for (int64_t pc = 0; pc < t.K; pc += P::KC) {
      const int64_t kc = imin(P::KC, t.K - pc);
      const float beta = pc == 0 ? t.beta : 1.0f;
      pack_b<P::NR>(t, pc, kc, jc, nc, bpack);
      for (int64_t ic = 0; ic < t.M; ic += P::MC) {
        const int64_t mc = imin(P::MC, t.M - ic);
        pack_a<P::MR>(t, ic, mc, pc, kc, apack);
        for (int64_t jr = 0; jr < nc; jr += P::NR) {
          const int64_t nr = imin(P::NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += P::MR) {
            const int64_t mr = imin(P::MR, mc - ir);
            float* c = t.C + (ic + ir) * t.ldc + jc + jr;
            if (mr == P::MR && nr == P::NR) {
              P::ukernel(kc, apack + ir * kc, bpack + jr * kc, c, t.ldc, t.alpha, beta);
#ifdef FSK_HAVE_UKERNEL_ROWS
            } else if (nr == P::NR) {
              P::ukernel_rows(mr, kc, apack + ir * kc, bpack + jr * kc, c, t.ldc, t.alpha, beta);
#endif
            } else {
              P::ukernel(kc, apack + ir * kc, bpack + jr * kc, tile, P::NR, 1.0f, 0.0f);
              merge_tile(c, t.ldc, tile, P::NR, mr, nr, t.alpha, beta);
            }
          }
        }
      }
    }
  }
}

// M == 1 (A contiguous, not transposed): dot products for Y = x W^T, row axpys for y = x W.
template <class P>
static void sgemv_impl(const GemmTask& t) {
  const float* a = t.A;
  float* y = t.C;
  switch (t.bkind) {
    case kBF32T: {
      const float* B = static_cast<const float*>(t.B);
      for (int64_t j = 0; j < t.N; ++j) y[j] = store_one(y[j], P::dot(a, B + j * t.ldb, t.K), t.alpha, t.beta);
      return;
    }
    case kBQ8RowsN: {
      const uint8_t* W = static_cast<const uint8_t*>(t.B);
      const int64_t nb = t.K / kQ8Block;
      for (int64_t j = 0; j < t.N; ++j) y[j] = store_one(y[j], P::dot_q8(a, W + j * t.ldb, nb), t.alpha, t.beta);
      return;
    }
    default:
      break;
  }
  // y = beta*y + sum_k (alpha*a[k]) * op(B)[k, :]
  for (int64_t j = 0; j < t.N; ++j) y[j] = t.beta == 0.0f ? 0.0f : t.beta * y[j];
  for (int64_t k = 0; k < t.K; ++k) {
    const float s = t.alpha * a[k];
    if (t.bkind == kBF32) {
      const float* row = static_cast<const float*>(t.B) + k * t.ldb;
      for (int64_t j = 0; j < t.N; ++j) y[j] += s * row[j];
    } else {  // kBQ8RowsK; the caller passes whole rows, so N is a multiple of 32
      const uint8_t* row = static_cast<const uint8_t*>(t.B) + k * t.ldb;
      for (int64_t b = 0; b < t.N / kQ8Block; ++b) {
        const uint8_t* blk = row + b * kQ8BlockBytes;
        const float sd = s * fsk_load_f16(blk);
        const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
        float* yb = y + b * kQ8Block;
        for (int l = 0; l < kQ8Block; ++l) yb[l] += sd * static_cast<float>(q[l]);
      }
    }
  }
}

// Q8 x Q8, one (m, n) at a time in ggml's order: sumf += (float)sumi * (d_w * d_x), block by block.
// The panel kernels use the same per-element arithmetic, so every path gives the same bits.
static inline int32_t dot_i8_32(const int8_t* x, const int8_t* w) {
  int32_t s = 0;
  for (int l = 0; l < kQ8Block; ++l) s += static_cast<int32_t>(x[l]) * static_cast<int32_t>(w[l]);
  return s;
}

static void q8_direct_impl(const Q8Task& t) {
  const int64_t nb = t.K / kQ8Block;
  for (int64_t m = 0; m < t.M; ++m) {
    const int8_t* xq = t.xq + m * t.K;
    const float* xd = t.xd + m * nb;
    for (int64_t n = 0; n < t.N; ++n) {
      const uint8_t* row = t.W + n * t.ldw;
      float sum = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = row + b * kQ8BlockBytes;
        const float dw = fsk_load_f16(blk);
        const int32_t si = dot_i8_32(xq + b * kQ8Block, reinterpret_cast<const int8_t*>(blk + 2));
        sum = fmaf(static_cast<float>(si), dw * xd[b], sum);
      }
      float* y = t.Y + m * t.ldy + n;
      *y = t.beta == 0.0f ? sum : fmaf(t.beta, *y, sum);
    }
  }
}

static void sgemm_entry(const GemmTask& t, float* apack, float* bpack) { sgemm_serial_impl<P>(t, apack, bpack); }
static void sgemv_entry(const GemmTask& t) { sgemv_impl<P>(t); }
