// Splits GEMM problems across threads and owns the per-thread packing buffers. Every split gives
// the same bits as one thread: each output element is computed by the same sequence of operations
// whichever thread owns it.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>
#include <vector>

#include "kernels.h"

namespace fsk {
namespace {

// A grow-only 64-byte aligned buffer.
struct Buffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  void* get(size_t want) {
    if (want > bytes) {
      free(ptr);
      bytes = (want + 63) & ~static_cast<size_t>(63);
      ptr = aligned_alloc(64, bytes);
      if (!ptr) abort();
    }
    return ptr;
  }
};

struct ThreadScratch {
  Buffer a, b, panel;
};

std::mutex g_call_mu;  // the scratch below is shared by all callers
std::vector<ThreadScratch> g_scratch;
Buffer g_xq, g_xd, g_arow;

ThreadScratch& scratch(int tid) { return g_scratch[tid]; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// [begin, end) of part `tid` when n items are cut into `parts` pieces on multiples of `align`.
void split_range(int64_t n, int tid, int parts, int64_t align, int64_t* begin, int64_t* end) {
  const int64_t units = ceil_div(n, align);
  const int64_t lo = units * tid / parts, hi = units * (tid + 1) / parts;
  *begin = lo * align < n ? lo * align : n;
  *end = hi * align < n ? hi * align : n;
}

void scale_rows(float* C, int64_t M, int64_t N, int64_t ldc, float beta) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

// The sub-problem for output columns [j0, j1).
GemmTask columns(const GemmTask& t, int64_t j0, int64_t j1) {
  GemmTask s = t;
  s.N = j1 - j0;
  s.C = t.C + j0;
  switch (t.bkind) {
    case kBF32: s.B = static_cast<const float*>(t.B) + j0; break;
    case kBF32T: s.B = static_cast<const float*>(t.B) + j0 * t.ldb; break;
    case kBQ8RowsN: s.B = static_cast<const uint8_t*>(t.B) + j0 * t.ldb; break;
    case kBQ8RowsK: s.B = static_cast<const uint8_t*>(t.B) + (j0 / kQ8Block) * kQ8BlockBytes; break;
  }
  return s;
}

GemmTask rows(const GemmTask& t, int64_t i0, int64_t i1) {
  GemmTask s = t;
  s.M = i1 - i0;
  s.A = t.transA ? t.A + i0 : t.A + i0 * t.lda;
  s.C = t.C + i0 * t.ldc;
  return s;
}

}  // namespace

void sgemm(const GemmTask& task, int threads) {
  if (task.M <= 0 || task.N <= 0) return;
  if (task.K <= 0) {
    scale_rows(task.C, task.M, task.N, task.ldc, task.beta);
    return;
  }
  std::lock_guard<std::mutex> lock(g_call_mu);
  const IsaKernels& ik = kernels();
  if (static_cast<int>(g_scratch.size()) < threads) g_scratch.resize(threads);
  const int64_t col_align = 32;  // a multiple of every NR and of the Q8 block

  if (task.M == 1) {
    GemmTask t = task;
    if (t.transA && t.lda != 1) {
      float* a = static_cast<float*>(g_arow.get(sizeof(float) * t.K));
      for (int64_t k = 0; k < t.K; ++k) a[k] = t.A[k * t.lda];
      t.A = a;
    }
    t.transA = false;
    const int n = static_cast<int>(ceil_div(t.N, col_align) < threads ? ceil_div(t.N, col_align) : threads);
    auto work = [&](int tid, int nt) {
      int64_t j0, j1;
      split_range(t.N, tid, nt, col_align, &j0, &j1);
      if (j1 > j0) ik.sgemv(columns(t, j0, j1));
    };
    parallel(n, work);
    return;
  }

  const bool by_columns = task.N >= task.M || ceil_div(task.M, ik.mr) < threads;
  const int64_t units = by_columns ? ceil_div(task.N, col_align) : ceil_div(task.M, ik.mr);
  const int n = static_cast<int>(units < threads ? units : threads);
  for (int tid = 0; tid < n; ++tid) {
    scratch(tid).a.get(sizeof(float) * ik.apack_floats);
    scratch(tid).b.get(sizeof(float) * ik.bpack_floats);
  }
  auto work = [&](int tid, int nt) {
    int64_t lo, hi;
    split_range(by_columns ? task.N : task.M, tid, nt, by_columns ? col_align : ik.mr, &lo, &hi);
    if (hi <= lo) return;
    const GemmTask sub = by_columns ? columns(task, lo, hi) : rows(task, lo, hi);
    ik.sgemm(sub, static_cast<float*>(scratch(tid).a.ptr), static_cast<float*>(scratch(tid).b.ptr));
  };
  parallel(n, work);
}

void q8_gemm_quantized(int64_t M, int64_t N, int64_t K, const float* X, int64_t ldx, const uint8_t* W,
                       int64_t ldw, float beta, float* Y, int64_t ldy, int threads) {
  if (M <= 0 || N <= 0) return;
  std::lock_guard<std::mutex> lock(g_call_mu);
  const IsaKernels& ik = kernels();
  if (static_cast<int>(g_scratch.size()) < threads) g_scratch.resize(threads);
  const bool use_panel = ik.q8_panel != nullptr && M >= 2;
  const bool unsigned_x = use_panel && ik.q8_unsigned_x;
  const int64_t nb = K / kQ8Block;
  int8_t* xq = static_cast<int8_t*>(g_xq.get(static_cast<size_t>(M * K) + 64));
  float* xd = static_cast<float*>(g_xd.get(sizeof(float) * static_cast<size_t>(M * nb) + 64));

  const int qn = static_cast<int>(M < threads ? M : threads);
  auto quantize = [&](int tid, int nt) {
    int64_t r0, r1;
    split_range(M, tid, nt, 1, &r0, &r1);
    if (r1 > r0) ik.quantize_acts(X + r0 * ldx, r1 - r0, K, ldx, xq + r0 * K, xd + r0 * nb, unsigned_x);
  };
  parallel(qn, quantize);

  const int64_t align = 32;
  const int64_t units = ceil_div(N, align);
  const int n = static_cast<int>(units < threads ? units : threads);
  if (use_panel)
    for (int tid = 0; tid < n; ++tid) scratch(tid).panel.get(static_cast<size_t>(ik.q8_panel_bytes(K)));
  auto work = [&](int tid, int nt) {
    int64_t n0, n1;
    split_range(N, tid, nt, align, &n0, &n1);
    if (n1 <= n0) return;
    const Q8Task t = {M, n1 - n0, K, xq, xd, W + n0 * ldw, ldw, beta, Y + n0, ldy};
    if (use_panel) ik.q8_panel(t, static_cast<uint8_t*>(scratch(tid).panel.ptr));
    else ik.q8_direct(t);
  };
  parallel(n, work);
}

}  // namespace fsk
