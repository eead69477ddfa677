/* WASM exports for the kernels (tests and benchmarks). Bindings contain no logic. */
#include <emscripten/emscripten.h>
#include "../kernels/kernels.h"

EMSCRIPTEN_KEEPALIVE void wasm_matmul(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                                      float *C, int ldc, int accumulate) {
    sc_matmul(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}
EMSCRIPTEN_KEEPALIVE void wasm_matmul_bt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                                         float *C, int ldc, int accumulate) {
    sc_matmul_bt(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}
EMSCRIPTEN_KEEPALIVE const char *wasm_kernels_simd_name(void) { return sc_kernels_simd_name(); }
