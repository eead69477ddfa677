/* Compute kernels: f32 matrix products and elementwise ops on one SIMD abstraction
 * (src/kernels/simd.h: WASM SIMD128, SSE/AVX through the compiler, scalar fallback).
 * No allocation: packing buffers live on the stack (48 KB at most). Not thread-shared state. */
#ifndef SCRIBE_KERNELS_H
#define SCRIBE_KERNELS_H

#include <stddef.h>

/* C[M x N] (+)= A[M x K] * B[K x N]; row-major with leading dimensions.
 * accumulate = 0 overwrites C. */
void sc_matmul(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
               int accumulate);
/* C[M x N] (+)= A[M x K] * B^T where B is [N x K] row-major (e.g. Q * K^T). */
void sc_matmul_bt(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                  int accumulate);

/* Name of the SIMD branch compiled in: "wasm-simd128", "avx", "sse2" or "scalar". */
const char *sc_kernels_simd_name(void);

/* ---- vector helpers (n elements, no aliasing requirements beyond the obvious) ---- */
/* sum a[i] * b[i] */
float sc_vec_dot(const float *a, const float *b, int n);
/* y[i] += x[i] */
void sc_vec_add(float *y, const float *x, int n);
/* y[i] *= x[i] */
void sc_vec_mul(float *y, const float *x, int n);
/* y[i] *= s */
void sc_vec_scale(float *y, float s, int n);
/* y[i] += s * x[i] */
void sc_vec_axpy(float *y, float s, const float *x, int n);
/* y[i] = max(y[i], 0) */
void sc_vec_relu(float *y, int n);
/* y[i] = gelu(y[i]) with the tanh approximation (T5.1.1 / flax "gelu" approximate=True). */
void sc_vec_gelu_tanh(float *y, int n);
/* T5 layer norm (RMS norm without mean subtraction, no bias):
 * y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]. y may equal x. w may be NULL (no scale). */
void sc_rmsnorm(float *y, const float *x, const float *w, int n, float eps);
/* In-place numerically stable softmax over n values (n >= 1). */
void sc_softmax(float *x, int n);

#endif
