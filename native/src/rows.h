// Row and elementwise kernels of the llama forward/backward, each forward beside its backward.
// Flat buffers plus explicit dims; every backward ACCUMULATES (+=) into its gradients (llm.c style),
// so callers zero gradients explicitly. Results do not depend on the thread count.
#pragma once
#include <stdint.h>

namespace fsk {

// out[N,C] = inp * rstd * weight[C],  rstd[N] = 1/sqrt(mean(inp^2) + eps)   (ggml: sum of squares in double)
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t N, int64_t C, float eps,
                     int threads);
// dinp[N,C] += d/dinp,  dweight[C] += d/dweight (dweight may be null: frozen weight)
void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp, const float* weight,
                      const float* rstd, int64_t N, int64_t C, int threads);

// out[R,L] = softmax(scale * inp) per row. causal: row r is query i = r % q_len and sees the columns
// j <= i + (L - q_len); the others get 0. out may alias inp.
void softmax_forward(float* out, const float* inp, int64_t R, int64_t L, float scale, bool causal, int64_t q_len,
                     int threads);
// dinp[R,L] += scale * out * (dout - sum(out * dout))
void softmax_backward(float* dinp, const float* dout, const float* out, int64_t R, int64_t L, float scale, int threads);

// out[n] = x * sigmoid(x);  dinp[n] += dout * silu'(x)
void silu_forward(float* out, const float* inp, int64_t n, int threads);
void silu_backward(float* dinp, const float* dout, const float* inp, int64_t n, int threads);
// out[n] = silu(gate) * up;  dgate[n] += dout * up * silu'(gate),  dup[n] += dout * silu(gate)
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n, int threads);
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n,
                     int threads);

// out[T,H,D] = rope(inp[T,H,D]) at positions pos[T]: the first n_rot dims of every head rotate by
// theta_i = freq_scale * pos * base^(-2i/n_rot); normal (llama) pairs (2i, 2i+1), neox (qwen2) pairs
// (i, i + n_rot/2); the remaining dims are copied. out may alias inp.
void rope_forward(float* out, const float* inp, const int32_t* pos, int64_t T, int64_t H, int64_t D, int64_t n_rot,
                  float base, float freq_scale, bool neox, int threads);
// dinp[T,H,D] += rope^T(dout)  (rotation by -theta)
void rope_backward(float* dinp, const float* dout, const int32_t* pos, int64_t T, int64_t H, int64_t D, int64_t n_rot,
                   float base, float freq_scale, bool neox, int threads);

void add(float* out, const float* a, const float* b, int64_t n, int threads);   // out = a + b
void scale(float* out, const float* inp, float s, int64_t n, int threads);      // out = s * inp
void axpy(float* y, float alpha, const float* x, int64_t n, int threads);       // y += alpha * x

// logits[T,V], targets[T] (< 0: not counted). losses[T] = logsumexp(row) - row[target] (0 when not
// counted); dlogits[T,V] (may be null, may alias logits) = (softmax(row) - onehot) * dscale, 0 rows
// when not counted. Returns the sum of the counted losses.
double cross_entropy(float* losses, float* dlogits, const float* logits, const int32_t* targets, int64_t T, int64_t V,
                     float dscale, int threads);

// PyTorch AdamW (decoupled weight decay, bias correction); g = grad * grad_scale; step counts from 1.
void adamw(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
           float eps, float weight_decay, int64_t step, float grad_scale, int threads);

}  // namespace fsk
