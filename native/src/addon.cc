// N-API bindings: argument checking and calls into the kernels. Every function takes flat typed
// arrays plus explicit dims (the TypeScript front documents the shapes); lengths are checked here
// again so a wrong call throws a RangeError instead of touching memory it does not own.
#include <math.h>
#include <node_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "rows.h"

namespace fsk {
namespace {

constexpr int kApiVersion = 1;  // bump when a signature changes; the loader refuses a stale build

class Args {
 public:
  Args(napi_env env, napi_callback_info info, const char* fn, size_t expected) : env_(env), fn_(fn) {
    argc_ = kMax;
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr);
    if (argc_ < expected) fail("expected %zu arguments, got %zu", expected, argc_);
  }

  bool ok() const { return ok_; }

  void fail(const char* fmt, ...) {
    if (!ok_) return;
    ok_ = false;
    char msg[300], full[360];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s: %s", fn_, msg);
    napi_throw_range_error(env_, nullptr, full);
  }

  double num(size_t i) {
    double v = 0;
    if (ok_ && napi_get_value_double(env_, argv_[i], &v) != napi_ok) fail("argument %zu: number expected", i);
    return v;
  }

  int64_t integer(size_t i, int64_t min) {
    const double v = num(i);
    if (ok_ && (v != floor(v) || v < static_cast<double>(min) || v > 9007199254740991.0))
      fail("argument %zu: integer >= %lld expected, got %g", i, static_cast<long long>(min), v);
    return ok_ ? static_cast<int64_t>(v) : 0;
  }

  int threads(size_t i) {
    const int64_t t = integer(i, 1);
    return static_cast<int>(t > 256 ? 256 : t);
  }

  bool boolean(size_t i) {
    bool v = false;
    if (ok_ && napi_get_value_bool(env_, argv_[i], &v) != napi_ok) fail("argument %zu: boolean expected", i);
    return v;
  }

  float* f32(size_t i, int64_t need, bool optional = false) {
    return static_cast<float*>(typed(i, napi_float32_array, "Float32Array", need, optional));
  }
  uint8_t* u8(size_t i, int64_t need) { return static_cast<uint8_t*>(typed(i, napi_uint8_array, "Uint8Array", need, false)); }
  int32_t* i32(size_t i, int64_t need) { return static_cast<int32_t*>(typed(i, napi_int32_array, "Int32Array", need, false)); }

  napi_value undefined() {
    napi_value u;
    napi_get_undefined(env_, &u);
    return u;
  }

 private:
  void* typed(size_t i, napi_typedarray_type want, const char* name, int64_t need, bool optional) {
    if (!ok_) return nullptr;
    napi_valuetype vt;
    napi_typeof(env_, argv_[i], &vt);
    if (optional && (vt == napi_null || vt == napi_undefined)) return nullptr;
    bool is = false;
    napi_is_typedarray(env_, argv_[i], &is);
    napi_typedarray_type type;
    size_t length = 0, offset = 0;
    void* data = nullptr;
    napi_value buffer;
    if (!is || napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, &buffer, &offset) != napi_ok ||
        type != want) {
      fail("argument %zu: %s expected", i, name);
      return nullptr;
    }
    if (static_cast<int64_t>(length) < need) {
      fail("argument %zu: %s of at least %lld elements expected, got %zu", i, name, static_cast<long long>(need), length);
      return nullptr;
    }
    return data;
  }

  static constexpr size_t kMax = 16;
  napi_env env_;
  const char* fn_;
  size_t argc_;
  napi_value argv_[kMax];
  bool ok_ = true;
};

// elements spanned by `rows` rows of `cols` values, `ld` apart
int64_t span(int64_t rows, int64_t ld, int64_t cols) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }
int64_t q8_row_bytes(int64_t cols) { return cols / kQ8Block * kQ8BlockBytes; }

napi_value Number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

napi_value Bool(napi_env env, bool v) {
  napi_value out;
  napi_get_boolean(env, v, &out);
  return out;
}

void set(napi_env env, napi_value obj, const char* key, napi_value v) { napi_set_named_property(env, obj, key, v); }

napi_value Info(napi_env env, napi_callback_info) {
  const CpuFeatures& f = cpu_features();
  napi_value out, features, isa, compiler;
  napi_create_object(env, &out);
  napi_create_object(env, &features);
  napi_create_string_utf8(env, active_isa(), NAPI_AUTO_LENGTH, &isa);
  napi_create_string_utf8(env, __VERSION__, NAPI_AUTO_LENGTH, &compiler);
  set(env, features, "avx2", Bool(env, f.avx2));
  set(env, features, "fma", Bool(env, f.fma));
  set(env, features, "avx512f", Bool(env, f.avx512f));
  set(env, features, "avx512bw", Bool(env, f.avx512bw));
  set(env, features, "avx512vl", Bool(env, f.avx512vl));
  set(env, features, "avx512dq", Bool(env, f.avx512dq));
  set(env, features, "avx512vnni", Bool(env, f.avx512vnni));
  set(env, features, "avxvnni", Bool(env, f.avxvnni));
  set(env, out, "apiVersion", Number(env, kApiVersion));
  set(env, out, "isa", isa);
  set(env, out, "vnni", Bool(env, active_vnni()));
  set(env, out, "features", features);
  set(env, out, "compiler", compiler);
  return out;
}

// setIsa(name: 'auto'|'avx512'|'avx2'|'scalar'): boolean (false: the CPU lacks it; nothing changes)
napi_value SetIsa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char name[32] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "setIsa: string expected");
    return nullptr;
  }
  return Bool(env, select_isa(name));
}

// sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads)
napi_value Sgemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "sgemm", 14);
  const bool ta = a.boolean(0), tb = a.boolean(1);
  const int64_t M = a.integer(2, 0), N = a.integer(3, 0), K = a.integer(4, 0);
  const float alpha = static_cast<float>(a.num(5));
  const int64_t lda = a.integer(7, ta ? M : K), ldb = a.integer(9, tb ? K : N);
  const float beta = static_cast<float>(a.num(10));
  const int64_t ldc = a.integer(12, N);
  const int threads = a.threads(13);
  const float* A = a.f32(6, ta ? span(K, lda, M) : span(M, lda, K));
  const float* B = a.f32(8, tb ? span(N, ldb, K) : span(K, ldb, N));
  float* C = a.f32(11, span(M, ldc, N));
  if (!a.ok()) return nullptr;
  const GemmTask t = {M, N, K, alpha, beta, A, lda, ta, tb ? kBF32T : kBF32, B, ldb, C, ldc};
  sgemm(t, threads);
  return a.undefined();
}

// q8GemmNT(M, N, K, X, ldx, W, beta, Y, ldy, quantizeX, threads): Y[M,N] = X[M,K] . W^T (+ beta*Y), W Q8_0 [N,K]
napi_value Q8GemmNT(napi_env env, napi_callback_info info) {
  Args a(env, info, "q8GemmNT", 11);
  const int64_t M = a.integer(0, 0), N = a.integer(1, 0), K = a.integer(2, 0);
  if (a.ok() && K % kQ8Block != 0) a.fail("K must be a multiple of 32, got %lld", static_cast<long long>(K));
  const int64_t ldx = a.integer(4, K), ldy = a.integer(8, N);
  const float beta = static_cast<float>(a.num(6));
  const bool quantize_x = a.boolean(9);
  const int threads = a.threads(10);
  const float* X = a.f32(3, span(M, ldx, K));
  const uint8_t* W = a.u8(5, N * q8_row_bytes(K));
  float* Y = a.f32(7, span(M, ldy, N));
  if (!a.ok()) return nullptr;
  if (quantize_x && K > 0) {
    q8_gemm_quantized(M, N, K, X, ldx, W, q8_row_bytes(K), beta, Y, ldy, threads);
  } else {
    const GemmTask t = {M, N, K, 1.0f, beta, X, ldx, false, kBQ8RowsN, W, q8_row_bytes(K), Y, ldy};
    sgemm(t, threads);
  }
  return a.undefined();
}

// q8GemmNN(M, N, K, dY, lddy, W, beta, dX, lddx, threads): dX[M,K] = dY[M,N] . W (+ beta*dX), W Q8_0 [N,K]
napi_value Q8GemmNN(napi_env env, napi_callback_info info) {
  Args a(env, info, "q8GemmNN", 10);
  const int64_t M = a.integer(0, 0), N = a.integer(1, 0), K = a.integer(2, 0);
  if (a.ok() && K % kQ8Block != 0) a.fail("K must be a multiple of 32, got %lld", static_cast<long long>(K));
  const int64_t lddy = a.integer(4, N), lddx = a.integer(8, K);
  const float beta = static_cast<float>(a.num(6));
  const int threads = a.threads(9);
  const float* dY = a.f32(3, span(M, lddy, N));
  const uint8_t* W = a.u8(5, N * q8_row_bytes(K));
  float* dX = a.f32(7, span(M, lddx, K));
  if (!a.ok()) return nullptr;
  const GemmTask t = {M, K, N, 1.0f, beta, dY, lddy, false, kBQ8RowsK, W, q8_row_bytes(K), dX, lddx};
  sgemm(t, threads);
  return a.undefined();
}

// quantizeQ8_0(dst, src, rows, cols) / dequantizeQ8_0(dst, src, rows, cols)
napi_value QuantizeQ8(napi_env env, napi_callback_info info) {
  Args a(env, info, "quantizeQ8_0", 4);
  const int64_t rows = a.integer(2, 0), cols = a.integer(3, 0);
  if (a.ok() && cols % kQ8Block != 0) a.fail("cols must be a multiple of 32, got %lld", static_cast<long long>(cols));
  uint8_t* dst = a.u8(0, rows * q8_row_bytes(cols));
  const float* src = a.f32(1, rows * cols);
  if (!a.ok()) return nullptr;
  quantize_q8_0_rows(src, rows, cols, dst);
  return a.undefined();
}

napi_value DequantizeQ8(napi_env env, napi_callback_info info) {
  Args a(env, info, "dequantizeQ8_0", 4);
  const int64_t rows = a.integer(2, 0), cols = a.integer(3, 0);
  if (a.ok() && cols % kQ8Block != 0) a.fail("cols must be a multiple of 32, got %lld", static_cast<long long>(cols));
  float* dst = a.f32(0, rows * cols);
  const uint8_t* src = a.u8(1, rows * q8_row_bytes(cols));
  if (!a.ok()) return nullptr;
  dequantize_q8_0_rows(src, rows, cols, dst);
  return a.undefined();
}

// rmsnormForward(out, rstd, inp, weight, N, C, eps, threads)
napi_value RmsnormForward(napi_env env, napi_callback_info info) {
  Args a(env, info, "rmsnormForward", 8);
  const int64_t N = a.integer(4, 0), C = a.integer(5, 1);
  const float eps = static_cast<float>(a.num(6));
  const int threads = a.threads(7);
  float* out = a.f32(0, N * C);
  float* rstd = a.f32(1, N);
  const float* inp = a.f32(2, N * C);
  const float* w = a.f32(3, C);
  if (!a.ok()) return nullptr;
  rmsnorm_forward(out, rstd, inp, w, N, C, eps, threads);
  return a.undefined();
}

// rmsnormBackward(dinp, dweight|null, dout, inp, weight, rstd, N, C, threads)
napi_value RmsnormBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "rmsnormBackward", 9);
  const int64_t N = a.integer(6, 0), C = a.integer(7, 1);
  const int threads = a.threads(8);
  float* dinp = a.f32(0, N * C);
  float* dw = a.f32(1, C, true);
  const float* dout = a.f32(2, N * C);
  const float* inp = a.f32(3, N * C);
  const float* w = a.f32(4, C);
  const float* rstd = a.f32(5, N);
  if (!a.ok()) return nullptr;
  rmsnorm_backward(dinp, dw, dout, inp, w, rstd, N, C, threads);
  return a.undefined();
}

// softmaxForward(out, inp, rows, cols, scale, causal, queryLen, threads)
napi_value SoftmaxForward(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmaxForward", 8);
  const int64_t R = a.integer(2, 0), L = a.integer(3, 0);
  const float s = static_cast<float>(a.num(4));
  const bool causal = a.boolean(5);
  const int64_t q = a.integer(6, 1);
  const int threads = a.threads(7);
  float* out = a.f32(0, R * L);
  const float* inp = a.f32(1, R * L);
  if (!a.ok()) return nullptr;
  softmax_forward(out, inp, R, L, s, causal, q, threads);
  return a.undefined();
}

// softmaxBackward(dinp, dout, out, rows, cols, scale, threads)
napi_value SoftmaxBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmaxBackward", 7);
  const int64_t R = a.integer(3, 0), L = a.integer(4, 0);
  const float s = static_cast<float>(a.num(5));
  const int threads = a.threads(6);
  float* dinp = a.f32(0, R * L);
  const float* dout = a.f32(1, R * L);
  const float* out = a.f32(2, R * L);
  if (!a.ok()) return nullptr;
  softmax_backward(dinp, dout, out, R, L, s, threads);
  return a.undefined();
}

// siluForward(out, inp, n, threads) / siluBackward(dinp, dout, inp, n, threads)
napi_value SiluForward(napi_env env, napi_callback_info info) {
  Args a(env, info, "siluForward", 4);
  const int64_t n = a.integer(2, 0);
  const int threads = a.threads(3);
  float* out = a.f32(0, n);
  const float* inp = a.f32(1, n);
  if (!a.ok()) return nullptr;
  silu_forward(out, inp, n, threads);
  return a.undefined();
}

napi_value SiluBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "siluBackward", 5);
  const int64_t n = a.integer(3, 0);
  const int threads = a.threads(4);
  float* dinp = a.f32(0, n);
  const float* dout = a.f32(1, n);
  const float* inp = a.f32(2, n);
  if (!a.ok()) return nullptr;
  silu_backward(dinp, dout, inp, n, threads);
  return a.undefined();
}

// swigluForward(out, gate, up, n, threads) / swigluBackward(dgate, dup, dout, gate, up, n, threads)
napi_value SwigluForward(napi_env env, napi_callback_info info) {
  Args a(env, info, "swigluForward", 5);
  const int64_t n = a.integer(3, 0);
  const int threads = a.threads(4);
  float* out = a.f32(0, n);
  const float* gate = a.f32(1, n);
  const float* up = a.f32(2, n);
  if (!a.ok()) return nullptr;
  swiglu_forward(out, gate, up, n, threads);
  return a.undefined();
}

napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "swigluBackward", 7);
  const int64_t n = a.integer(5, 0);
  const int threads = a.threads(6);
  float* dgate = a.f32(0, n);
  float* dup = a.f32(1, n);
  const float* dout = a.f32(2, n);
  const float* gate = a.f32(3, n);
  const float* up = a.f32(4, n);
  if (!a.ok()) return nullptr;
  swiglu_backward(dgate, dup, dout, gate, up, n, threads);
  return a.undefined();
}

// ropeForward(out, inp, pos, T, nHead, headDim, nRot, base, freqScale, neox, threads); ropeBackward(dinp, dout, ...)
napi_value Rope(napi_env env, napi_callback_info info, bool forward) {
  Args a(env, info, forward ? "ropeForward" : "ropeBackward", 11);
  const int64_t T = a.integer(3, 0), H = a.integer(4, 0), D = a.integer(5, 0), n_rot = a.integer(6, 0);
  if (a.ok() && (n_rot % 2 != 0 || n_rot > D))
    a.fail("nRot must be even and <= headDim, got %lld (headDim %lld)", static_cast<long long>(n_rot),
           static_cast<long long>(D));
  const float base = static_cast<float>(a.num(7)), fs = static_cast<float>(a.num(8));
  const bool neox = a.boolean(9);
  const int threads = a.threads(10);
  float* out = a.f32(0, T * H * D);
  const float* inp = a.f32(1, T * H * D);
  const int32_t* pos = a.i32(2, T);
  if (!a.ok()) return nullptr;
  if (forward) rope_forward(out, inp, pos, T, H, D, n_rot, base, fs, neox, threads);
  else rope_backward(out, inp, pos, T, H, D, n_rot, base, fs, neox, threads);
  return a.undefined();
}
napi_value RopeForward(napi_env env, napi_callback_info info) { return Rope(env, info, true); }
napi_value RopeBackward(napi_env env, napi_callback_info info) { return Rope(env, info, false); }

// add(out, a, b, n, threads)
napi_value Add(napi_env env, napi_callback_info info) {
  Args a(env, info, "add", 5);
  const int64_t n = a.integer(3, 0);
  const int threads = a.threads(4);
  float* out = a.f32(0, n);
  const float* x = a.f32(1, n);
  const float* y = a.f32(2, n);
  if (!a.ok()) return nullptr;
  add(out, x, y, n, threads);
  return a.undefined();
}

// scale(out, inp, s, n, threads)
napi_value Scale(napi_env env, napi_callback_info info) {
  Args a(env, info, "scale", 5);
  const float s = static_cast<float>(a.num(2));
  const int64_t n = a.integer(3, 0);
  const int threads = a.threads(4);
  float* out = a.f32(0, n);
  const float* x = a.f32(1, n);
  if (!a.ok()) return nullptr;
  scale(out, x, s, n, threads);
  return a.undefined();
}

// axpy(y, alpha, x, n, threads)
napi_value Axpy(napi_env env, napi_callback_info info) {
  Args a(env, info, "axpy", 5);
  const float alpha = static_cast<float>(a.num(1));
  const int64_t n = a.integer(3, 0);
  const int threads = a.threads(4);
  float* y = a.f32(0, n);
  const float* x = a.f32(2, n);
  if (!a.ok()) return nullptr;
  axpy(y, alpha, x, n, threads);
  return a.undefined();
}

// crossEntropy(losses, dlogits|null, logits, targets, T, V, dscale, threads): number
napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  Args a(env, info, "crossEntropy", 8);
  const int64_t T = a.integer(4, 0), V = a.integer(5, 1);
  const float dscale = static_cast<float>(a.num(6));
  const int threads = a.threads(7);
  float* losses = a.f32(0, T);
  float* dlogits = a.f32(1, T * V, true);
  const float* logits = a.f32(2, T * V);
  const int32_t* targets = a.i32(3, T);
  if (!a.ok()) return nullptr;
  for (int64_t t = 0; t < T; ++t)
    if (targets[t] >= V) {
      a.fail("targets[%lld] = %d is not below V = %lld", static_cast<long long>(t), targets[t], static_cast<long long>(V));
      return nullptr;
    }
  return Number(env, cross_entropy(losses, dlogits, logits, targets, T, V, dscale, threads));
}

// adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, threads)
napi_value AdamW(napi_env env, napi_callback_info info) {
  Args a(env, info, "adamw", 13);
  const int64_t n = a.integer(4, 0);
  const float lr = static_cast<float>(a.num(5)), b1 = static_cast<float>(a.num(6)), b2 = static_cast<float>(a.num(7));
  const float eps = static_cast<float>(a.num(8)), wd = static_cast<float>(a.num(9));
  const int64_t step = a.integer(10, 1);
  const float gs = static_cast<float>(a.num(11));
  const int threads = a.threads(12);
  float* p = a.f32(0, n);
  const float* g = a.f32(1, n);
  float* m = a.f32(2, n);
  float* v = a.f32(3, n);
  if (!a.ok()) return nullptr;
  adamw(p, g, m, v, n, lr, b1, b2, eps, wd, step, gs, threads);
  return a.undefined();
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setIsa", nullptr, SetIsa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"q8GemmNT", nullptr, Q8GemmNT, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"q8GemmNN", nullptr, Q8GemmNN, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"quantizeQ8_0", nullptr, QuantizeQ8, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"dequantizeQ8_0", nullptr, DequantizeQ8, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"rmsnormForward", nullptr, RmsnormForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"rmsnormBackward", nullptr, RmsnormBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"softmaxForward", nullptr, SoftmaxForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"softmaxBackward", nullptr, SoftmaxBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"siluForward", nullptr, SiluForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"siluBackward", nullptr, SiluBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"swigluForward", nullptr, SwigluForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"swigluBackward", nullptr, SwigluBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"ropeForward", nullptr, RopeForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"ropeBackward", nullptr, RopeBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"add", nullptr, Add, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"scale", nullptr, Scale, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"axpy", nullptr, Axpy, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"crossEntropy", nullptr, CrossEntropy, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adamw", nullptr, AdamW, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace
}  // namespace fsk

NAPI_MODULE(NODE_GYP_MODULE_NAME, fsk::Init)
