/* TEMPORARY scalar stand-in for sc_matmul / sc_matmul_bt until the kernels branch is merged.
 * The integrator deletes this file at merge (src/kernels/kernels.c provides the real ones). */
#include <string.h>

#include "kernels.h"

void sc_matmul(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
               int accumulate) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (!accumulate) memset(c, 0, (size_t)N * sizeof(float));
        const float *a = A + (size_t)i * lda;
        for (int k = 0; k < K; k++) {
            const float x = a[k];
            const float *b = B + (size_t)k * ldb;
            for (int j = 0; j < N; j++) c[j] += x * b[j];
        }
    }
}

void sc_matmul_bt(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                  int accumulate) {
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        for (int j = 0; j < N; j++) {
            const float *b = B + (size_t)j * ldb;
            float s = 0;
            for (int k = 0; k < K; k++) s += a[k] * b[k];
            C[(size_t)i * ldc + j] = accumulate ? C[(size_t)i * ldc + j] + s : s;
        }
    }
}
