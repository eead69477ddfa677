/* Compute kernels: f32 matrix products and elementwise ops on one SIMD abstraction
 * (WASM SIMD128, SSE/AVX through the compiler, scalar fallback). No allocation. */
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

#endif
