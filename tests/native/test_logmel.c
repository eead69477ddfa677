/* Log-mel front end: shape, floor, filterbank formula, tone placement, frame/compute agreement.
 * (The comparison with an independent numpy implementation runs in tests/node/logmel.test.mjs.) */
#include <string.h>
#include "dsp/logmel.h"
#include "test.h"

static double mel(double hz) { return 1127.0 * log(1.0 + hz / 700.0); }

TEST(logmel_frames_and_floor) {
    sc_logmel_config c = sc_logmel_default_config();
    CHECK(c.sample_rate == 16000 && c.fft_size == 2048 && c.hop == 128 && c.n_mels == 512);
    sc_logmel *m;
    CHECK_OK(sc_logmel_init(&c, &m, NULL));
    if (!m) return;
    CHECK(sc_logmel_num_frames(m, 0) == 0);
    CHECK(sc_logmel_num_frames(m, 1) == 1);
    CHECK(sc_logmel_num_frames(m, 128) == 1);
    CHECK(sc_logmel_num_frames(m, 129) == 2);
    CHECK(sc_logmel_num_frames(m, 256 * 128) == 256);
    float *x = calloc(1000, sizeof(float));
    float *out = malloc(8 * 512 * sizeof(float));
    sc_logmel_compute(m, x, 1000, out);
    for (int i = 0; i < 8 * 512; i++) CHECK_NEAR(out[i], log(1e-5), 1e-6);
    free(x);
    free(out);
    sc_logmel_free(m);
}

TEST(logmel_filterbank_matches_formula) {
    sc_logmel_config c = sc_logmel_default_config();
    sc_logmel *m;
    CHECK_OK(sc_logmel_init(&c, &m, NULL));
    if (!m) return;
    size_t nb = 1025, nm = 512;
    float *W = malloc(nb * nm * sizeof(float));
    CHECK(sc_logmel_dense_filterbank(m, W, nb * nm) == nb * nm);
    double maxd = 0;
    for (size_t k = 0; k < nb; k++)
        for (size_t b = 0; b < nm; b++) {
            double want = 0;
            if (k > 0) {
                double mk = mel(k * 8000.0 / 1024), lo = mel(20), hi = mel(7600);
                double l = lo + (hi - lo) * b / 513, ce = lo + (hi - lo) * (b + 1) / 513, u = lo + (hi - lo) * (b + 2) / 513;
                want = fmax(0, fmin((mk - l) / (ce - l), (u - mk) / (u - ce)));
            }
            maxd = fmax(maxd, fabs(W[k * nm + b] - want));
        }
    CHECK_MSG(maxd < 1e-6, "filterbank max diff %g", maxd);
    for (size_t b = 0; b < nm; b++) CHECK(W[b] == 0.0f); /* DC row */
    free(W);
    sc_logmel_free(m);
}

TEST(logmel_tone_lands_in_its_band) {
    sc_logmel_config c = sc_logmel_default_config();
    sc_logmel *m;
    CHECK_OK(sc_logmel_init(&c, &m, NULL));
    if (!m) return;
    const double f = 1000.0;
    size_t n = 4096;
    float *x = malloc(n * sizeof(float)), *out = malloc(32 * 512 * sizeof(float)), row[512];
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * 3.14159265358979 * f * i / 16000));
    sc_logmel_compute(m, x, n, out);
    int arg = 0;
    for (int b = 1; b < 512; b++) if (out[b] > out[arg]) arg = b;
    /* band b has its centre at mel lo + (hi - lo) (b + 1) / 513 */
    double pos = (mel(f) - mel(20)) / (mel(7600) - mel(20)) * 513 - 1;
    CHECK_MSG(fabs(arg - pos) <= 1.0, "1 kHz peak in band %d, expected near %.1f", arg, pos);
    /* magnitude, not power: doubling the amplitude adds ln 2 */
    for (size_t i = 0; i < n; i++) x[i] *= 2;
    float out2[512];
    sc_logmel_frame(m, x, out2);
    CHECK_NEAR(out2[arg] - out[arg], log(2.0), 1e-4);
    /* frame() on the first fft_size samples equals compute()'s first row */
    for (size_t i = 0; i < n; i++) x[i] *= 0.5f;
    sc_logmel_frame(m, x, row);
    CHECK(memcmp(row, out, sizeof row) == 0);
    free(x);
    free(out);
    sc_logmel_free(m);
}

TEST(logmel_rejects_bad_config) {
    sc_logmel_config c = sc_logmel_default_config();
    sc_logmel *m;
    scribe_error e;
    c.hi_hz = 9000;
    CHECK(sc_logmel_init(&c, &m, &e) == SCRIBE_ERR_INVALID_ARGUMENT && m == NULL);
    c = sc_logmel_default_config();
    c.fft_size = 2047;
    CHECK(sc_logmel_init(&c, &m, &e) == SCRIBE_ERR_INVALID_ARGUMENT);
    c = sc_logmel_default_config();
    c.hop = 0;
    CHECK(sc_logmel_init(&c, &m, &e) == SCRIBE_ERR_INVALID_ARGUMENT);
}
