/* Kernels against a double-precision reference on random odd shapes.
 * Error measure (per product): max_ij |C - ref| / max_ij |ref| < 1e-5, where ref is computed in
 * double from the same float inputs (including the initial C when accumulating). */
#include <string.h>
#include "kernels/kernels.h"
#include "test.h"

static unsigned rng_state = 12345u;
static float frand(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* Returns the relative error of one product, or -1 when a guard cell was touched. */
static double check_one(int M, int N, int K, int pad, int accumulate, int bt) {
    int lda = K + pad, ldb = (bt ? K : N) + pad, ldc = N + pad;
    int brows = bt ? N : K;
    size_t na = (size_t)M * lda + 1, nb = (size_t)brows * ldb + 1, nc = (size_t)M * ldc + 1;
    float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float)), *C = malloc(nc * sizeof(float));
    double *ref = malloc(((size_t)M * N + 1) * sizeof(double));
    for (size_t i = 0; i < na; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    for (size_t i = 0; i < nc; i++) C[i] = frand();
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = accumulate ? C[(size_t)i * ldc + j] : 0.0;
            for (int k = 0; k < K; k++) {
                double b = bt ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += (double)A[(size_t)i * lda + k] * b;
            }
            ref[(size_t)i * N + j] = s;
        }
    /* Cells of C outside the M x N window (the ldc padding) must keep their value. */
    float *C0 = malloc(nc * sizeof(float));
    memcpy(C0, C, nc * sizeof(float));
    if (bt) sc_matmul_bt(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    else sc_matmul(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    double maxerr = 0.0, maxref = 0.0;
    int guard_ok = 1;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double e = fabs(C[(size_t)i * ldc + j] - ref[(size_t)i * N + j]);
            if (!(e <= maxerr)) maxerr = e; /* NaN propagates as a failure */
            double r = fabs(ref[(size_t)i * N + j]);
            if (r > maxref) maxref = r;
        }
        for (int j = N; j < ldc && (size_t)i * ldc + j < nc; j++)
            if (memcmp(&C[(size_t)i * ldc + j], &C0[(size_t)i * ldc + j], sizeof(float))) guard_ok = 0;
    }
    if (memcmp(&C[nc - 1], &C0[nc - 1], sizeof(float))) guard_ok = 0;
    free(A); free(B); free(C); free(C0); free(ref);
    if (!guard_ok) return -1.0;
    return maxref > 0 ? maxerr / maxref : maxerr;
}

static const int shapes[][3] = {
    {1, 1, 1}, {3, 7, 5}, {17, 33, 65}, {127, 129, 31}, {2, 100, 300}, {5, 9, 1}, {4, 8, 256},
    {6, 16, 257}, {64, 64, 64}, {33, 200, 513}, {130, 47, 260}, {1, 513, 77}, {257, 3, 19},
    {7, 37, 300}, {2, 64, 600}, {5, 48, 33},
};

TEST(kernels_matmul_random_shapes) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int bt = 0; bt < 2; bt++)
            for (int acc = 0; acc < 2; acc++)
                for (int pad = 0; pad <= 3; pad += 3) {
                    int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                    double e = check_one(M, N, K, pad, acc, bt);
                    CHECK_MSG(e >= 0.0 && e < 1e-5, "%s %dx%dx%d pad %d accumulate %d: rel err %g (-1: wrote outside C)",
                              bt ? "matmul_bt" : "matmul", M, N, K, pad, acc, e);
                }
}

TEST(kernels_matmul_k_zero) {
    float C[6] = {1, 2, 3, 4, 5, 6};
    float A[1] = {0}, B[1] = {0};
    sc_matmul(2, 3, 0, A, 1, B, 3, C, 3, 1);
    CHECK(C[0] == 1 && C[5] == 6);
    sc_matmul(2, 3, 0, A, 1, B, 3, C, 3, 0);
    for (int i = 0; i < 6; i++) CHECK(C[i] == 0.0f);
}

TEST(kernels_vector_helpers) {
    enum { N = 103 };
    float x[N], y[N], w[N], t[N];
    for (int i = 0; i < N; i++) { x[i] = frand(); y[i] = frand(); w[i] = frand(); }
    double d = 0;
    for (int i = 0; i < N; i++) d += (double)x[i] * y[i];
    CHECK_NEAR(sc_vec_dot(x, y, N), d, 1e-5);

    memcpy(t, y, sizeof t);
    sc_vec_axpy(t, 0.5f, x, N);
    for (int i = 0; i < N; i++) CHECK_NEAR(t[i], y[i] + 0.5 * x[i], 1e-6);
    memcpy(t, y, sizeof t);
    sc_vec_add(t, x, N);
    for (int i = 0; i < N; i++) CHECK_NEAR(t[i], (double)y[i] + x[i], 1e-6);
    memcpy(t, y, sizeof t);
    sc_vec_mul(t, x, N);
    for (int i = 0; i < N; i++) CHECK_NEAR(t[i], (double)y[i] * x[i], 1e-6);
    memcpy(t, y, sizeof t);
    sc_vec_scale(t, -3.0f, N);
    for (int i = 0; i < N; i++) CHECK_NEAR(t[i], -3.0 * y[i], 1e-6);
    memcpy(t, y, sizeof t);
    sc_vec_relu(t, N);
    for (int i = 0; i < N; i++) CHECK(t[i] == (y[i] > 0 ? y[i] : 0.0f));

    memcpy(t, x, sizeof t);
    sc_vec_gelu_tanh(t, N);
    for (int i = 0; i < N; i++) {
        double v = x[i];
        CHECK_NEAR(t[i], 0.5 * v * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v))), 1e-6);
    }

    double ss = 0;
    for (int i = 0; i < N; i++) ss += (double)x[i] * x[i];
    sc_rmsnorm(t, x, w, N, 1e-6f);
    for (int i = 0; i < N; i++) CHECK_NEAR(t[i], x[i] / sqrt(ss / N + 1e-6) * w[i], 1e-5);

    memcpy(t, x, sizeof t);
    t[7] = 80.0f; /* large value: must not overflow */
    double mx = 80.0, se = 0;
    for (int i = 0; i < N; i++) se += exp((i == 7 ? 80.0 : x[i]) - mx);
    sc_softmax(t, N);
    double sum = 0;
    for (int i = 0; i < N; i++) sum += t[i];
    CHECK_NEAR(sum, 1.0, 1e-5);
    CHECK_NEAR(t[3], exp(x[3] - mx) / se, 1e-9);
    CHECK_NEAR(t[7], 1.0 / se, 1e-6);
}
