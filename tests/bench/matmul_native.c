/* Native twin of tests/bench/matmul.mjs: GFLOP/s of sc_matmul built with -march=native. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kernels/kernels.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double bench(int M, int N, int K, int bt) {
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N), *c = malloc(sizeof(float) * M * N);
    if (!a || !b || !c) { fprintf(stderr, "out of memory\n"); exit(1); }
    srand(1);
    for (int i = 0; i < M * K; i++) a[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int i = 0; i < K * N; i++) b[i] = (float)rand() / RAND_MAX - 0.5f;
    double flops = 2.0 * M * N * K, best = 1e30;
    int reps = (int)(4e9 / flops) + 1;
    for (int t = 0; t < 7; t++) {
        double t0 = now();
        for (int r = 0; r < reps; r++) {
            if (bt) sc_matmul_bt(M, N, K, a, K, b, K, c, N, 0);
            else sc_matmul(M, N, K, a, K, b, N, c, N, 0);
        }
        double s = (now() - t0) / reps;
        if (s < best) best = s;
    }
    free(a); free(b); free(c);
    return flops / best / 1e9;
}

/* Core clock estimate from a chain of dependent 64-bit multiplies (3 cycles each on x86). */
static double clock_ghz(void) {
#if defined(__x86_64__)
    unsigned long x = 3;
    long n = 200000000;
    double t0 = now();
    for (long i = 0; i < n; i++) __asm__ volatile("imul %0, %0\n\timul %0, %0" : "+r"(x));
    double s = now() - t0;
    volatile unsigned long sink = x;
    (void)sink;
    return 6.0 * n / s / 1e9;
#else
    return 0.0;
#endif
}

int main(void) {
    double ghz = clock_ghz();
    if (ghz > 0)
        printf("core clock ~%.2f GHz; wasm SIMD without FMA issues at most 3 f32x4 mul/add per cycle on this core\n"
               "  (mul on ports 0/1, add on 1/5) = 12 flop/cycle = %.1f GFLOP/s bound for the plain WASM build\n",
               ghz, 12.0 * ghz);
    printf("native (%s), single thread, CPU time, best of 7\n", sc_kernels_simd_name());
    int shapes[][3] = {{512, 1024, 512}, {256, 512, 512}, {1024, 1024, 1024}, {64, 2048, 512}, {1, 1024, 512}};
    for (int i = 0; i < 5; i++)
        printf("  matmul    %dx%dx%d: %.1f GFLOP/s\n", shapes[i][0], shapes[i][1], shapes[i][2],
               bench(shapes[i][0], shapes[i][1], shapes[i][2], 0));
    printf("  matmul_bt 512x1024x512: %.1f GFLOP/s\n", bench(512, 1024, 512, 1));
    return 0;
}
