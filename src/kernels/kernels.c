/* f32 matrix products: packed-panel GEMM with an MR x NR register-tiled micro-kernel.
 *
 * Blocking (GotoBLAS order): for each NC-wide column block and KC-deep k block, B is packed
 * into a stack buffer as NR-wide panels (k-major, zero-padded at the right edge); then every
 * MR-row strip of A (read in place, row-major) runs the micro-kernel against every panel.
 * The micro-kernel keeps an MR x NR tile of C in registers (MR * NB vectors).
 * Small M skips packing: M = 1 row-wise axpy and a few rows (see SC_DIRECT_M) DMR x DNR tiles
 * reading B in place (matmul); M < SC_SMALL_M dot products (matmul_bt).
 *
 * WASM figures on this machine (Xeon, ~2.95 GHz, Node 20, CPU time): the whole GEMM 31-33 GFLOP/s
 * at 512x1024x512; the micro-kernel alone on L1-resident panels 34 (the same for packed-A,
 * interleaved A/B and 4-pointer variants; lane-shuffle splats 25); a load-free loop of 8
 * independent f32x4 mul+add chains 37. Without fused multiply-add (relaxed SIMD is not allowed)
 * every MAC costs a mul and an add, so the f32x4 FP ports (mul 0/1, add 1/5) bound the build:
 * 3 ops/cycle measured natively (6 vmulps + 6 vaddps: 2.7/cycle with loop overhead; 12 of one
 * kind: 2.0), i.e. 12 flop/cycle = 35.5 GFLOP/s at 2.96 GHz; the 4 x 8 micro-kernel alone reaches
 * 34.6 (97%). Measured and rejected (2026-11, h-perf): unrolling k by 2/4/8 (V8 schedules every
 * load of the unrolled body first and then spills the accumulators: 28.7/24.5/20.0 for the kernel
 * alone, also with compiler barriers), 5x8/6x8/3x12/4x12/2x16/3x16 tiles (24-28), NC from 32 to
 * 96 KB of panel buffer and KC 128/384/512 (within +-3%), and one level of Strassen with the sums
 * formed while packing (7/8 of the flops, but the extra packing and two-quadrant epilogues ate the
 * gain: 29.5-33.0 counted as 2MNK, best with a 192 KB buffer).
 *
 * Fused multiply-add build (dist/scribe-relaxed.wasm: this module with every f32x4 mul+add turned
 * into f32x4.relaxed_madd by tools/relax_fma.mjs; Node with --experimental-wasm-relaxed-simd,
 * Chromium): the GEMM 37-38 GFLOP/s at 512x1024x512 (plain build 32-33 in the same runs), against
 * an FMA ceiling of 47 (12 load-free relaxed_madd chains; 2 FMA/cycle x 8 flop). Same tile: with
 * FMA, 3x3 runs the big GEMMs ~5% faster (39.5 vs 37.5) but wastes a third of a tile on N = 8
 * (264x8x312: 24.5 vs 37.5; the acoustic CNN has 8-channel convolutions) and the acoustic model
 * ran slower end to end (1.78 vs 1.45 s CPU on a clip); 2x4 37, 4x3 34, 3x2 31, 5x2 30, 2x5 28,
 * 6x2 8 (V8 falls apart at 12 FMA accumulators); packed A (k-major, MR-interleaved: constant load
 * offsets) 32 with this 48 KB B buffer (packing a strip per panel block costs too much), 37.6 (4x2)
 * and 38.9 (3x3) with 192 KB; the plain tile with 192 KB 38.4. */
#include "kernels.h"

#include <math.h>
#include <string.h>

#include "simd.h"

/* Tile shape: MR rows x NB vectors. V8 on x64 (mul and add separately, 16 xmm registers) runs
 * 4 x 2 best (8 accumulators; measured against 6x2, 5x2, 3x3, 2x4, k-unrolled and packed-A
 * variants); native AVX with FMA runs 6 x 2 (x 8 lanes) best. */
#ifndef SC_MR
#if SC_VW == 8
#define SC_MR 6
#else
#define SC_MR 4
#endif
#endif
#ifndef SC_NB
#define SC_NB 2
#endif
#define SC_NR (SC_NB * SC_VW)
#ifndef SC_KC
#define SC_KC 256
#endif
/* NC columns of KC rows: 256 * 48 * 4 bytes = 48 KB on the stack. */
#ifndef SC_BPACK_KB
#define SC_BPACK_KB 48
#endif
#define SC_NC (((SC_BPACK_KB * 1024) / (SC_KC * 4)) / SC_NR * SC_NR)
#define SC_SMALL_M 4
/* sc_matmul with 2 <= M < SC_DIRECT_M and M not a multiple of MR reads B in place instead of
 * packing it (gemm_direct); measured in WASM: M = 2, 3, 5, 6 gain (a partial MR-row strip wastes
 * up to half its work), M = 4 and 7 run faster packed. */
#ifndef SC_DIRECT_M
#define SC_DIRECT_M 7
#endif

static inline int sc_min_int(int a, int b) { return a < b ? a : b; }

const char *sc_kernels_simd_name(void) { return SC_SIMD_NAME; }

/* ------------------------------------------------------------------ micro-kernel */

/* tile(MR x NR) = sum_k a[r][k] * bp[k][0..NR); written to c (ldc) overwriting or adding. */
static inline void micro_kernel(int kc, const float *const a[SC_MR], const float *bp, float *c, int ldc,
                                int add) {
    sc_vf acc[SC_MR][SC_NB];
    const float *ap[SC_MR];
    for (int r = 0; r < SC_MR; r++) {
        for (int v = 0; v < SC_NB; v++) acc[r][v] = sc_vf_zero();
        ap[r] = a[r];
    }
    for (int k = 0; k < kc; k++) {
        sc_vf b[SC_NB];
        for (int v = 0; v < SC_NB; v++) b[v] = sc_vf_load(bp + v * SC_VW);
        bp += SC_NR;
        for (int r = 0; r < SC_MR; r++) {
            sc_vf x = sc_vf_load1(ap[r] + k);
            for (int v = 0; v < SC_NB; v++) acc[r][v] = sc_vf_fma(x, b[v], acc[r][v]);
        }
    }
    for (int r = 0; r < SC_MR; r++) {
        float *cr = c + (size_t)r * ldc;
        for (int v = 0; v < SC_NB; v++) {
            if (add)
                sc_vf_store(cr + v * SC_VW, sc_vf_add(sc_vf_load(cr + v * SC_VW), acc[r][v]));
            else
                sc_vf_store(cr + v * SC_VW, acc[r][v]);
        }
    }
}

/* Runs the micro-kernel on an m x n (m <= MR, n <= NR) tile at c. */
static inline void tile(int m, int n, int kc, const float *A, int lda, const float *bp, float *c, int ldc,
                        int add) {
    const float *a[SC_MR];
    for (int r = 0; r < SC_MR; r++) a[r] = A + (size_t)(r < m ? r : m - 1) * lda;
    if (m == SC_MR && n == SC_NR) {
        micro_kernel(kc, a, bp, c, ldc, add);
        return;
    }
    float t[SC_MR * SC_NR];
    micro_kernel(kc, a, bp, t, SC_NR, 0);
    for (int r = 0; r < m; r++) {
        float *cr = c + (size_t)r * ldc;
        const float *tr = t + r * SC_NR;
        if (add)
            for (int j = 0; j < n; j++) cr[j] += tr[j];
        else
            for (int j = 0; j < n; j++) cr[j] = tr[j];
    }
}

/* ------------------------------------------------------------------ packing */

/* B[K x N] row-major: columns j0..j0+nc, rows p0..p0+kc into NR-wide panels. Row-major walk
 * (k outer): each B row is read as one contiguous run instead of NR floats from kc rows 4 KB apart
 * (for N = 1024), which the L1 sets and the prefetchers handle badly. */
static void pack_b(int kc, int nc, const float *B, int ldb, float *bp) {
    int nfull = nc / SC_NR * SC_NR;
    for (int k = 0; k < kc; k++) {
        const float *src = B + (size_t)k * ldb;
        float *d = bp + (size_t)k * SC_NR;
        for (int j = 0; j < nfull; j += SC_NR) {
            for (int v = 0; v < SC_NB; v++) sc_vf_store(d + v * SC_VW, sc_vf_load(src + j + v * SC_VW));
            d += (size_t)kc * SC_NR;
        }
    }
    if (nfull < nc) {
        int w = nc - nfull;
        float *d = bp + (size_t)nfull * kc;
        for (int k = 0; k < kc; k++) {
            const float *s = B + (size_t)k * ldb + nfull;
            int jj = 0;
            for (; jj < w; jj++) d[jj] = s[jj];
            for (; jj < SC_NR; jj++) d[jj] = 0.0f;
            d += SC_NR;
        }
    }
}

/* B[N x K] row-major used transposed: rows j0..j0+nc, columns p0..p0+kc. */
static void pack_bt(int kc, int nc, const float *B, int ldb, float *bp) {
    for (int j = 0; j < nc; j += SC_NR) {
        int w = sc_min_int(SC_NR, nc - j);
        for (int jj = 0; jj < SC_NR; jj++) {
            float *d = bp + jj;
            if (jj < w) {
                const float *s = B + (size_t)(j + jj) * ldb;
                for (int k = 0; k < kc; k++) d[(size_t)k * SC_NR] = s[k];
            } else {
                for (int k = 0; k < kc; k++) d[(size_t)k * SC_NR] = 0.0f;
            }
        }
        bp += (size_t)kc * SC_NR;
    }
}

/* ------------------------------------------------------------------ drivers */

static void clear_c(int M, int N, float *C, int ldc) {
    for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
}

static void gemm_packed(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                        int ldc, int accumulate, int trans_b) {
    _Alignas(64) float bpack[SC_KC * SC_NC];
    for (int jc = 0; jc < N; jc += SC_NC) {
        int nc = sc_min_int(SC_NC, N - jc);
        for (int pc = 0; pc < K; pc += SC_KC) {
            int kc = sc_min_int(SC_KC, K - pc);
            if (trans_b)
                pack_bt(kc, nc, B + (size_t)jc * ldb + pc, ldb, bpack);
            else
                pack_b(kc, nc, B + (size_t)pc * ldb + jc, ldb, bpack);
            int add = accumulate || pc > 0;
            for (int i = 0; i < M; i += SC_MR) {
                int m = sc_min_int(SC_MR, M - i);
                const float *a = A + (size_t)i * lda + pc;
                float *c = C + (size_t)i * ldc + jc;
                for (int j = 0; j < nc; j += SC_NR) {
                    int n = sc_min_int(SC_NR, nc - j);
                    tile(m, n, kc, a, lda, bpack + (size_t)j * kc, c + j, ldc, add);
                }
            }
        }
    }
}

/* Direct (unpacked B) tiles: DMR rows x DNB vectors; a wide row of B per k uses whole cache lines. */
#ifndef SC_DMR
#define SC_DMR 2
#endif
#ifndef SC_DNB
#define SC_DNB 4
#endif
#define SC_DNR (SC_DNB * SC_VW)

/* tile(DMR x DNR) (+)= A rows a[] * B read in place (row-major, ldb; DNR columns at b). */
static inline void micro_kernel_direct(int kc, const float *const a[SC_DMR], const float *b, int ldb, float *c,
                                       int ldc, int add) {
    sc_vf acc[SC_DMR][SC_DNB];
    for (int r = 0; r < SC_DMR; r++)
        for (int v = 0; v < SC_DNB; v++) acc[r][v] = sc_vf_zero();
    for (int k = 0; k < kc; k++) {
        sc_vf bv[SC_DNB];
        for (int v = 0; v < SC_DNB; v++) bv[v] = sc_vf_load(b + v * SC_VW);
        b += ldb;
        for (int r = 0; r < SC_DMR; r++) {
            sc_vf x = sc_vf_load1(a[r] + k);
            for (int v = 0; v < SC_DNB; v++) acc[r][v] = sc_vf_fma(x, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < SC_DMR; r++) {
        float *cr = c + (size_t)r * ldc;
        for (int v = 0; v < SC_DNB; v++) {
            if (add)
                sc_vf_store(cr + v * SC_VW, sc_vf_add(sc_vf_load(cr + v * SC_VW), acc[r][v]));
            else
                sc_vf_store(cr + v * SC_VW, acc[r][v]);
        }
    }
}

static void gemm_small_m(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                         int ldc, int accumulate);

/* Few rows (see SC_DIRECT_M): packing B would cost about as much as the product,
 * so full DNR-wide column panels read B in place, DMR rows at a time (column panel outer, rows
 * inner: the panel is reused from cache across the rows); a leftover row takes the row-wise path
 * and the ragged right edge the packed one. */
static void gemm_direct(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                        int accumulate) {
    int nfull = N / SC_DNR * SC_DNR, mfull = M / SC_DMR * SC_DMR;
    for (int pc = 0; pc < K; pc += SC_KC) {
        int kc = sc_min_int(SC_KC, K - pc);
        int add = accumulate || pc > 0;
        const float *b = B + (size_t)pc * ldb;
        for (int j = 0; j < nfull; j += SC_DNR) {
            for (int i = 0; i < mfull; i += SC_DMR) {
                const float *a[SC_DMR];
                for (int r = 0; r < SC_DMR; r++) a[r] = A + (size_t)(i + r) * lda + pc;
                micro_kernel_direct(kc, a, b + j, ldb, C + (size_t)i * ldc + j, ldc, add);
            }
        }
    }
    if (mfull < M && nfull > 0)
        gemm_small_m(M - mfull, nfull, K, A + (size_t)mfull * lda, lda, B, ldb, C + (size_t)mfull * ldc, ldc,
                     accumulate);
    if (nfull < N) gemm_packed(M, N - nfull, K, A, lda, B + nfull, ldb, C + nfull, ldc, accumulate, 0);
}

/* One row (and gemm_direct's leftover row): C[i] (+)= sum_k A[i][k] * B[k], four k at a time
 * over the row of C. */
static void gemm_small_m(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                         int ldc, int accumulate) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        const float *a = A + (size_t)i * lda;
        if (!accumulate) memset(c, 0, (size_t)N * sizeof(float));
        int k = 0;
        for (; k + 4 <= K; k += 4) {
            const float *b0 = B + (size_t)k * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            sc_vf x0 = sc_vf_set1(a[k]), x1 = sc_vf_set1(a[k + 1]);
            sc_vf x2 = sc_vf_set1(a[k + 2]), x3 = sc_vf_set1(a[k + 3]);
            int j = 0;
            for (; j + SC_VW <= N; j += SC_VW) {
                sc_vf s = sc_vf_fma(x0, sc_vf_load(b0 + j), sc_vf_load(c + j));
                s = sc_vf_fma(x1, sc_vf_load(b1 + j), s);
                s = sc_vf_fma(x2, sc_vf_load(b2 + j), s);
                s = sc_vf_fma(x3, sc_vf_load(b3 + j), s);
                sc_vf_store(c + j, s);
            }
            for (; j < N; j++) c[j] += a[k] * b0[j] + a[k + 1] * b1[j] + a[k + 2] * b2[j] + a[k + 3] * b3[j];
        }
        for (; k < K; k++) sc_vec_axpy(c, a[k], B + (size_t)k * ldb, N);
    }
}

void sc_matmul(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
               int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate) clear_c(M, N, C, ldc);
        return;
    }
    if (M == 1)
        gemm_small_m(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    else if (M < SC_DIRECT_M && M % SC_MR != 0)
        gemm_direct(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    else
        gemm_packed(M, N, K, A, lda, B, ldb, C, ldc, accumulate, 0);
}

void sc_matmul_bt(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                  int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate) clear_c(M, N, C, ldc);
        return;
    }
    if (M < SC_SMALL_M) {
        for (int i = 0; i < M; i++) {
            const float *a = A + (size_t)i * lda;
            float *c = C + (size_t)i * ldc;
            for (int j = 0; j < N; j++) {
                float d = sc_vec_dot(a, B + (size_t)j * ldb, K);
                c[j] = accumulate ? c[j] + d : d;
            }
        }
        return;
    }
    gemm_packed(M, N, K, A, lda, B, ldb, C, ldc, accumulate, 1);
}

/* ------------------------------------------------------------------ vector helpers */

float sc_vec_dot(const float *a, const float *b, int n) {
    sc_vf s0 = sc_vf_zero(), s1 = sc_vf_zero(), s2 = sc_vf_zero(), s3 = sc_vf_zero();
    int i = 0;
    for (; i + 4 * SC_VW <= n; i += 4 * SC_VW) {
        s0 = sc_vf_fma(sc_vf_load(a + i), sc_vf_load(b + i), s0);
        s1 = sc_vf_fma(sc_vf_load(a + i + SC_VW), sc_vf_load(b + i + SC_VW), s1);
        s2 = sc_vf_fma(sc_vf_load(a + i + 2 * SC_VW), sc_vf_load(b + i + 2 * SC_VW), s2);
        s3 = sc_vf_fma(sc_vf_load(a + i + 3 * SC_VW), sc_vf_load(b + i + 3 * SC_VW), s3);
    }
    for (; i + SC_VW <= n; i += SC_VW) s0 = sc_vf_fma(sc_vf_load(a + i), sc_vf_load(b + i), s0);
    float s = sc_vf_hsum(sc_vf_add(sc_vf_add(s0, s1), sc_vf_add(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

void sc_vec_add(float *y, const float *x, int n) {
    int i = 0;
    for (; i + SC_VW <= n; i += SC_VW) sc_vf_store(y + i, sc_vf_add(sc_vf_load(y + i), sc_vf_load(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

void sc_vec_mul(float *y, const float *x, int n) {
    int i = 0;
    for (; i + SC_VW <= n; i += SC_VW) sc_vf_store(y + i, sc_vf_mul(sc_vf_load(y + i), sc_vf_load(x + i)));
    for (; i < n; i++) y[i] *= x[i];
}

void sc_vec_scale(float *y, float s, int n) {
    sc_vf v = sc_vf_set1(s);
    int i = 0;
    for (; i + SC_VW <= n; i += SC_VW) sc_vf_store(y + i, sc_vf_mul(sc_vf_load(y + i), v));
    for (; i < n; i++) y[i] *= s;
}

void sc_vec_axpy(float *y, float s, const float *x, int n) {
    sc_vf v = sc_vf_set1(s);
    int i = 0;
    for (; i + SC_VW <= n; i += SC_VW) sc_vf_store(y + i, sc_vf_fma(v, sc_vf_load(x + i), sc_vf_load(y + i)));
    for (; i < n; i++) y[i] += s * x[i];
}

void sc_vec_relu(float *y, int n) {
    sc_vf z = sc_vf_zero();
    int i = 0;
    for (; i + SC_VW <= n; i += SC_VW) sc_vf_store(y + i, sc_vf_max(sc_vf_load(y + i), z));
    for (; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

void sc_vec_gelu_tanh(float *y, int n) {
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    for (int i = 0; i < n; i++) {
        float x = y[i];
        y[i] = 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
    }
}

void sc_rmsnorm(float *y, const float *x, const float *w, int n, float eps) {
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float r = (float)(1.0 / sqrt(ss / (n > 0 ? n : 1) + eps));
    if (w)
        for (int i = 0; i < n; i++) y[i] = x[i] * r * w[i];
    else
        for (int i = 0; i < n; i++) y[i] = x[i] * r;
}

void sc_softmax(float *x, int n) {
    if (n <= 0) return;
    float m = x[0];
    for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        s += x[i];
    }
    float inv = (float)(1.0 / s);
    for (int i = 0; i < n; i++) x[i] *= inv;
}
