// Shared declarations of the compute kernels: task descriptions (plain structs, no inline code, so
// the per-ISA translation units can include this without sharing any compiled function), the
// per-ISA entry points and the dispatch table that picks one set at run time.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace fsk {

constexpr int kQ8Block = 32;       // values per Q8_0 block (ggml QK8_0)
constexpr int kQ8BlockBytes = 34;  // ggml block_q8_0: f16 scale d, then 32 int8 quants

// How op(B)[K,N] is stored.
enum BKind : int {
  kBF32 = 0,      // f32 row-major [K, ldb]: op(B)[k][j] = B[k*ldb + j]
  kBF32T = 1,     // f32 row-major [N, ldb]: op(B)[k][j] = B[j*ldb + k]
  kBQ8RowsN = 2,  // Q8_0 rows of length K (ldb bytes apart): op(B)[k][j] = W[j][k]   (Y = X W^T)
  kBQ8RowsK = 3,  // Q8_0 rows of length N (ldb bytes apart): op(B)[k][j] = W[k][j]   (dX = dY W)
};

// C[M,N] = alpha * op(A)[M,K] . op(B)[K,N] + beta * C   (beta == 0: C is not read)
// A: transA ? [K, lda] with op(A)[i][k] = A[k*lda + i] : [M, lda] with op(A)[i][k] = A[i*lda + k]
// C: [M, ldc]
struct GemmTask {
  int64_t M, N, K;
  float alpha, beta;
  const float* A;
  int64_t lda;
  bool transA;
  int bkind;
  const void* B;
  int64_t ldb;  // floats per row for f32 kinds, bytes per row for Q8 kinds
  float* C;
  int64_t ldc;
};

// Y[M,N] = sum over blocks b of  d_x[m,b] * d_w[n,b] * sum_{32} q_x * q_w   (+ beta * Y)
// xq: quantised activations [M, K] (int8; XOR 0x80 when the ISA asked for unsigned), xd: [M, K/32]
// W: Q8_0 [N, K] with rows ldw bytes apart.
struct Q8Task {
  int64_t M, N, K;
  const int8_t* xq;
  const float* xd;
  const uint8_t* W;
  int64_t ldw;
  float beta;
  float* Y;
  int64_t ldy;
};

// One instruction-set variant of the heavy kernels. The serial entry points work on a sub-problem;
// gemm.cc splits problems across threads and owns the scratch buffers.
struct IsaKernels {
  const char* name;
  // packed GEMM scratch sizes (floats) for one thread
  int64_t apack_floats;
  int64_t bpack_floats;
  int mr;  // rows per register tile: thread splits over M keep to multiples of it
  void (*sgemm)(const GemmTask& t, float* apack, float* bpack);
  void (*sgemv)(const GemmTask& t);  // M == 1
  // Q8 x Q8 products: panel kernel for M >= 2 (nullptr: use the direct one), direct for any M.
  bool q8_unsigned_x;                                 // panel kernel wants q_x ^ 0x80
  int q8_panel_n;                                     // rows of W per packed panel
  int64_t (*q8_panel_bytes)(int64_t K);               // scratch for one packed panel
  void (*q8_panel)(const Q8Task& t, uint8_t* panel);  // M >= 2
  void (*q8_direct)(const Q8Task& t);                 // any M; x must be signed
  // quantize_q8_0_activations (below), vectorised for this ISA; the same bits on every path
  void (*quantize_acts)(const float* x, int64_t rows, int64_t K, int64_t ldx, int8_t* q, float* d, bool unsigned_x);
};

extern const IsaKernels kScalarKernels;
#if defined(__x86_64__) || defined(_M_X64)
extern const IsaKernels kAvx2Kernels;
extern const IsaKernels kAvx512Kernels;
// Q8 x Q8 panel kernels: AVX2 (maddubs, any AVX2 CPU) and AVX-512 VNNI (vpdpbusd)
void q8_panel_avx2(const Q8Task& t, uint8_t* panel);
int64_t q8_panel_bytes_avx2(int64_t K);
// Q8 x Q8 panel kernel with AVX-512 VNNI (the f32 parts come from kAvx512Kernels)
void q8_panel_vnni(const Q8Task& t, uint8_t* panel);
int64_t q8_panel_bytes_vnni(int64_t K);
#endif

// --- cpu.cc
struct CpuFeatures {
  bool avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avxvnni;
};
const CpuFeatures& cpu_features();
// Selects the variant ("avx512", "avx2", "scalar" or "auto"); returns false if the CPU lacks it.
bool select_isa(const char* name);
const char* active_isa();
bool active_vnni();
const IsaKernels& kernels();

// --- threadpool.cc: runs fn(ctx, tid, n) for tid in [0, n) on n threads (the caller is tid 0).
void parallel_run(int n, void (*fn)(void* ctx, int tid, int n), void* ctx);

template <class F>
void parallel(int n, F& f) {
  if (n <= 1) {
    f(0, 1);
    return;
  }
  parallel_run(n, [](void* c, int tid, int nt) { (*static_cast<F*>(c))(tid, nt); }, &f);
}

// --- gemm.cc: thread splitting and scratch
void sgemm(const GemmTask& t, int threads);
// Y[M,N] = X[M,K] . W^T with X quantised to Q8_0 per row block first (llama.cpp's CPU path).
void q8_gemm_quantized(int64_t M, int64_t N, int64_t K, const float* X, int64_t ldx, const uint8_t* W,
                       int64_t ldw, float beta, float* Y, int64_t ldy, int threads);

// --- q8.cc
// Weights, as ggml's quantize_row_q8_0_ref: d = amax/127, q = roundf(x / d).
void quantize_q8_0_rows(const float* x, int64_t rows, int64_t cols, uint8_t* out);
void dequantize_q8_0_rows(const uint8_t* w, int64_t rows, int64_t cols, float* out);
// Activations, as ggml's x86 CPU quantize_row_q8_0: d = amax/127 stored as f16, q = rint(x * 127/amax)
// (round half to even). Writes K int8 per row (XOR 0x80 when unsigned_x) and K/32 scales (f16 values).
void quantize_q8_0_activations(const float* x, int64_t rows, int64_t K, int64_t ldx, int8_t* q, float* d,
                               bool unsigned_x);

}  // namespace fsk
