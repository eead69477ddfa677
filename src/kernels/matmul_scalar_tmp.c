/* TEMPORARY scalar sc_matmul / sc_matmul_bt so the MT3 branch builds before the SIMD kernels
 * merge. Remove this file when src/kernels provides them (the integrator does so at merge). */
#include "kernels.h"

#include <string.h>

void sc_matmul(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
               int accumulate) {
    for (int m = 0; m < M; m++) {
        float *c = C + (size_t)m * ldc;
        if (!accumulate) memset(c, 0, (size_t)N * sizeof *c);
        for (int k = 0; k < K; k++) {
            float a = A[(size_t)m * lda + k];
            const float *b = B + (size_t)k * ldb;
            for (int n = 0; n < N; n++) c[n] += a * b[n];
        }
    }
}

void sc_matmul_bt(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                  int accumulate) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(size_t)m * lda + k] * B[(size_t)n * ldb + k];
            C[(size_t)m * ldc + n] = accumulate ? C[(size_t)m * ldc + n] + s : s;
        }
}
