#include "rows.h"

#include <math.h>

#include <vector>

#include "kernels.h"

namespace fsk {
namespace {

// Splits [0, n) into contiguous pieces; tiny problems stay on one thread (waking workers costs more).
template <class F>
void for_ranges(int64_t n, int64_t work_per_item, int threads, F body) {
  const int64_t min_work = 1 << 15;
  int64_t useful = n * work_per_item / min_work;
  if (useful < 1) useful = 1;
  int nt = threads < 1 ? 1 : threads;
  if (nt > useful) nt = static_cast<int>(useful);
  if (nt > n) nt = static_cast<int>(n < 1 ? 1 : n);
  auto work = [&](int tid, int parts) {
    const int64_t lo = n * tid / parts, hi = n * (tid + 1) / parts;
    if (hi > lo) body(lo, hi);
  };
  parallel(nt, work);
}

inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

// cos/sin of the n_rot/2 angles at one position, computed as ggml does (theta *= theta_scale).
void rope_cache(float* cs, float* sn, int32_t pos, int64_t n_rot, float base, float freq_scale) {
  const float theta_scale = powf(base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(pos);
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const float t = freq_scale * theta;
    cs[i] = cosf(t);
    sn[i] = sinf(t);
    theta *= theta_scale;
  }
}

}  // namespace

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t N, int64_t C, float eps,
                     int threads) {
  for_ranges(N, C, threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = inp + r * C;
      float* y = out + r * C;
      double sum = 0.0;
      for (int64_t i = 0; i < C; ++i) sum += static_cast<double>(x[i] * x[i]);
      const float mean = static_cast<float>(sum / static_cast<double>(C));
      const float s = 1.0f / sqrtf(mean + eps);
      rstd[r] = s;
      for (int64_t i = 0; i < C; ++i) y[i] = (x[i] * s) * weight[i];
    }
  });
}

void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp, const float* weight,
                      const float* rstd, int64_t N, int64_t C, int threads) {
  for_ranges(N, C, threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = inp + r * C;
      const float* dy = dout + r * C;
      float* dx = dinp + r * C;
      const float s = rstd[r];
      double dot = 0.0;
      for (int64_t i = 0; i < C; ++i) dot += static_cast<double>(dy[i]) * weight[i] * x[i];
      const float k = static_cast<float>(dot * s * s * s / static_cast<double>(C));
      for (int64_t i = 0; i < C; ++i) dx[i] += s * weight[i] * dy[i] - k * x[i];
    }
  });
  if (!dweight) return;
  // over columns, so the row order of the sum is the same for any thread count
  for_ranges(C, N, threads, [&](int64_t c0, int64_t c1) {
    for (int64_t r = 0; r < N; ++r) {
      const float s = rstd[r];
      const float* x = inp + r * C;
      const float* dy = dout + r * C;
      for (int64_t i = c0; i < c1; ++i) dweight[i] += dy[i] * (x[i] * s);
    }
  });
}

void softmax_forward(float* out, const float* inp, int64_t R, int64_t L, float scale, bool causal, int64_t q_len,
                     int threads) {
  for_ranges(R, L, threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = inp + r * L;
      float* y = out + r * L;
      int64_t valid = L;
      if (causal) {
        valid = r % q_len + (L - q_len) + 1;
        if (valid < 0) valid = 0;
        if (valid > L) valid = L;
      }
      float mx = -INFINITY;
      for (int64_t j = 0; j < valid; ++j) mx = fmaxf(mx, x[j] * scale);
      double sum = 0.0;
      for (int64_t j = 0; j < valid; ++j) {
        const float e = expf(x[j] * scale - mx);
        y[j] = e;
        sum += e;
      }
      const float inv = sum > 0.0 ? static_cast<float>(1.0 / sum) : 0.0f;
      for (int64_t j = 0; j < valid; ++j) y[j] *= inv;
      for (int64_t j = valid; j < L; ++j) y[j] = 0.0f;
    }
  });
}

void softmax_backward(float* dinp, const float* dout, const float* out, int64_t R, int64_t L, float scale,
                      int threads) {
  for_ranges(R, L, threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* y = out + r * L;
      const float* dy = dout + r * L;
      float* dx = dinp + r * L;
      double dot = 0.0;
      for (int64_t j = 0; j < L; ++j) dot += static_cast<double>(y[j]) * dy[j];
      const float d = static_cast<float>(dot);
      for (int64_t j = 0; j < L; ++j) dx[j] += scale * y[j] * (dy[j] - d);
    }
  });
}

void silu_forward(float* out, const float* inp, int64_t n, int threads) {
  for_ranges(n, 8, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = inp[i] / (1.0f + expf(-inp[i]));
  });
}

void silu_backward(float* dinp, const float* dout, const float* inp, int64_t n, int threads) {
  for_ranges(n, 8, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float s = sigmoidf(inp[i]);
      dinp[i] += dout[i] * s * (1.0f + inp[i] * (1.0f - s));
    }
  });
}

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n, int threads) {
  for_ranges(n, 8, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
  });
}

void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n,
                     int threads) {
  for_ranges(n, 8, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float g = gate[i];
      const float s = sigmoidf(g);
      const float silu = g * s;
      dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
      dup[i] += dout[i] * silu;
    }
  });
}

void rope_forward(float* out, const float* inp, const int32_t* pos, int64_t T, int64_t H, int64_t D, int64_t n_rot,
                  float base, float freq_scale, bool neox, int threads) {
  for_ranges(T, H * D * 4, threads, [&](int64_t t0, int64_t t1) {
    std::vector<float> cs(n_rot / 2 + 1), sn(n_rot / 2 + 1);
    const int64_t half = n_rot / 2;
    for (int64_t t = t0; t < t1; ++t) {
      rope_cache(cs.data(), sn.data(), pos[t], n_rot, base, freq_scale);
      for (int64_t h = 0; h < H; ++h) {
        const float* x = inp + (t * H + h) * D;
        float* y = out + (t * H + h) * D;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
          const float x0 = x[a], x1 = x[b];
          y[a] = x0 * cs[i] - x1 * sn[i];
          y[b] = x0 * sn[i] + x1 * cs[i];
        }
        for (int64_t i = n_rot; i < D; ++i) y[i] = x[i];
      }
    }
  });
}

void rope_backward(float* dinp, const float* dout, const int32_t* pos, int64_t T, int64_t H, int64_t D, int64_t n_rot,
                   float base, float freq_scale, bool neox, int threads) {
  for_ranges(T, H * D * 4, threads, [&](int64_t t0, int64_t t1) {
    std::vector<float> cs(n_rot / 2 + 1), sn(n_rot / 2 + 1);
    const int64_t half = n_rot / 2;
    for (int64_t t = t0; t < t1; ++t) {
      rope_cache(cs.data(), sn.data(), pos[t], n_rot, base, freq_scale);
      for (int64_t h = 0; h < H; ++h) {
        const float* dy = dout + (t * H + h) * D;
        float* dx = dinp + (t * H + h) * D;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
          const float g0 = dy[a], g1 = dy[b];
          dx[a] += g0 * cs[i] + g1 * sn[i];
          dx[b] += g1 * cs[i] - g0 * sn[i];
        }
        for (int64_t i = n_rot; i < D; ++i) dx[i] += dy[i];
      }
    }
  });
}

void add(float* out, const float* a, const float* b, int64_t n, int threads) {
  for_ranges(n, 1, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = a[i] + b[i];
  });
}

void scale(float* out, const float* inp, float s, int64_t n, int threads) {
  for_ranges(n, 1, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = s * inp[i];
  });
}

void axpy(float* y, float alpha, const float* x, int64_t n, int threads) {
  for_ranges(n, 1, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] += alpha * x[i];
  });
}

double cross_entropy(float* losses, float* dlogits, const float* logits, const int32_t* targets, int64_t T, int64_t V,
                     float dscale, int threads) {
  for_ranges(T, V * 2, threads, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* l = logits + t * V;
      float* d = dlogits ? dlogits + t * V : nullptr;
      const int32_t target = targets[t];
      if (target < 0) {
        losses[t] = 0.0f;
        if (d)
          for (int64_t j = 0; j < V; ++j) d[j] = 0.0f;
        continue;
      }
      float mx = -INFINITY;
      for (int64_t j = 0; j < V; ++j) mx = fmaxf(mx, l[j]);
      double sum = 0.0;
      for (int64_t j = 0; j < V; ++j) sum += expf(l[j] - mx);
      losses[t] = static_cast<float>(log(sum) + static_cast<double>(mx) - static_cast<double>(l[target]));
      if (!d) continue;
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j < V; ++j) d[j] = expf(l[j] - mx) * inv * dscale;  // reads l[j] before writing d[j]
      d[target] -= dscale;
    }
  });
  double total = 0.0;
  for (int64_t t = 0; t < T; ++t)
    if (targets[t] >= 0) total += losses[t];
  return total;
}

void adamw(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
           float eps, float weight_decay, int64_t step, float grad_scale, int threads) {
  const float bc1 = static_cast<float>(1.0 - pow(static_cast<double>(beta1), static_cast<double>(step)));
  const float bc2_sqrt = static_cast<float>(sqrt(1.0 - pow(static_cast<double>(beta2), static_cast<double>(step))));
  const float step_size = lr / bc1;
  const float decay = 1.0f - lr * weight_decay;
  for_ranges(n, 8, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float g = grad[i] * grad_scale;
      m[i] += (1.0f - beta1) * (g - m[i]);
      v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
      const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
      param[i] = param[i] * decay - step_size * (m[i] / denom);
    }
  });
}

}  // namespace fsk
