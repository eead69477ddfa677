/* Resampler: stopband (aliasing / imaging) below -80 dB, passband within 0.1 dB, sine sweeps,
 * block-size invariance, delay compensation (phase and click position), lengths, errors.
 * Figures are printed so the test log records them. */
#include <string.h>
#include "test.h"

#define PI 3.14159265358979323846

static float *resample_all(const float *x, size_t n, uint32_t in, uint32_t out, size_t *m) {
    float *y = NULL;
    scribe_error e;
    scribe_status st = scribe_resample(x, n, in, out, &y, m, &e);
    CHECK_MSG(st == SCRIBE_OK, "%u -> %u: %s", in, out, e.message);
    return y;
}

/* Least-squares fit of a sinusoid of frequency f (Hz at rate fs) to y[a..b);
 * returns the amplitude and the residual RMS. */
static double fit_tone(const float *y, size_t a, size_t b, double f, double fs, double *resid_rms) {
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
    for (size_t i = a; i < b; i++) {
        double s = sin(2 * PI * f * i / fs), c = cos(2 * PI * f * i / fs);
        ss += s * s; cc += c * c; sc += s * c; ys += y[i] * s; yc += y[i] * c;
    }
    double det = ss * cc - sc * sc;
    double A = (ys * cc - yc * sc) / det, B = (yc * ss - ys * sc) / det;
    double r = 0;
    for (size_t i = a; i < b; i++) {
        double d = y[i] - A * sin(2 * PI * f * i / fs) - B * cos(2 * PI * f * i / fs);
        r += d * d;
    }
    *resid_rms = sqrt(r / (double)(b - a));
    return sqrt(A * A + B * B);
}

static double rms(const float *y, size_t a, size_t b) {
    double s = 0;
    for (size_t i = a; i < b; i++) s += (double)y[i] * y[i];
    return sqrt(s / (double)(b - a));
}

static const uint32_t pairs[][2] = {{44100, 16000}, {48000, 16000}, {44100, 22050}, {22050, 44100},
                                    {8000, 16000}, {16000, 44100}, {44100, 16001}, {96000, 22050}};

TEST(resample_tones_passband_and_stopband) {
    double worst_alias_db = -1000, worst_pass_db = 0;
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        uint32_t in = pairs[p][0], out = pairs[p][1];
        double nyq = 0.5 * (in < out ? in : out);
        size_t n = in / 2; /* 0.5 s */
        float *x = malloc(n * sizeof(float));
        /* passband tones (0.9 x Nyquist and below): gain within 0.1 dB, residual below -80 dB */
        const double pf[] = {50.0, 1000.0, 0.5 * nyq, 0.9 * nyq};
        for (int t = 0; t < 4; t++) {
            for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * PI * pf[t] * i / in + 0.3));
            size_t m;
            float *y = resample_all(x, n, in, out, &m);
            if (!y) continue;
            double resid;
            double amp = fit_tone(y, m / 8, m - m / 8, pf[t], out, &resid);
            double g_db = 20 * log10(amp / 0.5), r_db = 20 * log10(resid / (0.5 / sqrt(2)) + 1e-30);
            CHECK_MSG(fabs(g_db) < 0.1, "%u->%u tone %.0f Hz: gain %.4f dB", in, out, pf[t], g_db);
            CHECK_MSG(r_db < -80, "%u->%u tone %.0f Hz: residual (images) %.1f dB", in, out, pf[t], r_db);
            if (fabs(g_db) > fabs(worst_pass_db)) worst_pass_db = g_db;
            if (r_db > worst_alias_db) worst_alias_db = r_db;
            free(y);
        }
        /* downsampling: tones above the new Nyquist must vanish (< -80 dB) */
        if (out < in) {
            const double sf[] = {nyq * 1.01, nyq * 1.2, nyq * 1.7, 0.499 * in};
            for (int t = 0; t < 4; t++) {
                for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * PI * sf[t] * i / in));
                size_t m;
                float *y = resample_all(x, n, in, out, &m);
                if (!y) continue;
                double a_db = 20 * log10(rms(y, m / 8, m - m / 8) / (0.5 / sqrt(2)) + 1e-30);
                CHECK_MSG(a_db < -80, "%u->%u tone %.0f Hz above Nyquist: %.1f dB", in, out, sf[t], a_db);
                if (a_db > worst_alias_db) worst_alias_db = a_db;
                free(y);
            }
        }
        free(x);
    }
    printf("  resample: worst aliasing/imaging %.1f dB, worst passband gain error %.4f dB\n", worst_alias_db,
           worst_pass_db);
}

TEST(resample_sine_sweep_aliasing) {
    /* Exponential sweep over the whole band of 44.1 kHz, 3 s, to 16 kHz. The part of the sweep
     * above 8 kHz must leave nothing (< -80 dB); the part below 0.9 x 8 kHz must pass. */
    const uint32_t in = 44100, out = 16000;
    const size_t n = 3 * in;
    const double f0 = 20.0, f1 = 22050.0, T = 3.0;
    float *x = malloc(n * sizeof(float));
    const double k = log(f1 / f0) / T;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / in;
        x[i] = (float)(0.5 * sin(2 * PI * f0 * (exp(k * t) - 1) / k));
    }
    size_t m;
    float *y = resample_all(x, n, in, out, &m);
    if (!y) { free(x); return; }
    CHECK(m == (size_t)ceil((double)n * out / in));
    /* instantaneous frequency f(t) = f0 exp(k t); window the output by time. Skip 20 ms around the
     * band edges so that the filter's transition band and its time spread stay out of both measures. */
    double t_hi = log(8000.0 / f0) / k + 0.02, t_pass = log(7200.0 / f0) / k - 0.02;
    size_t hi0 = (size_t)(t_hi * out), pass0 = (size_t)(0.1 * out), pass1 = (size_t)(t_pass * out);
    double alias_db = 20 * log10(rms(y, hi0, m - 200) / (0.5 / sqrt(2)) + 1e-30);
    double pass_db = 20 * log10(rms(y, pass0, pass1) / (0.5 / sqrt(2)));
    printf("  sweep 20 Hz..22.05 kHz, 44.1k -> 16k: above-Nyquist part %.1f dB, passband part %.3f dB\n", alias_db,
           pass_db);
    CHECK_MSG(alias_db < -80, "sweep aliasing %.1f dB", alias_db);
    CHECK_MSG(fabs(pass_db) < 0.1, "sweep passband %.3f dB", pass_db);
    free(x);
    free(y);
}

TEST(resample_block_size_invariance) {
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        uint32_t in = pairs[p][0], out = pairs[p][1];
        size_t n = 30011;
        float *x = malloc(n * sizeof(float));
        unsigned s = 99;
        for (size_t i = 0; i < n; i++) { s = s * 1103515245u + 12345u; x[i] = (float)((s >> 9) & 0xFFFF) / 32768.0f - 1.0f; }
        size_t m;
        float *ref = resample_all(x, n, in, out, &m);
        scribe_resampler *r;
        CHECK_OK(scribe_resampler_init(in, out, &r, NULL));
        float *y = malloc((m + 16) * sizeof(float));
        size_t pos = 0, got = 0;
        while (pos < n) {
            s = s * 1103515245u + 12345u;
            size_t b = (s >> 16) % 3000;
            if (b > n - pos) b = n - pos;
            size_t cap = scribe_resampler_max_output(r, b), k;
            CHECK(got + cap <= m);
            CHECK_OK(scribe_resampler_process(r, x + pos, b, y + got, cap, &k, NULL));
            CHECK(k == cap); /* max_output is exact */
            got += k;
            pos += b;
        }
        size_t k, want = scribe_resampler_pending(r);
        CHECK_OK(scribe_resampler_flush(r, y + got, m + 16 - got, &k, NULL));
        CHECK(k == want);
        got += k;
        CHECK_MSG(got == m, "%u->%u: %zu frames in blocks vs %zu in one call", in, out, got, m);
        double maxd = 0;
        for (size_t i = 0; i < m && i < got; i++) maxd = fmax(maxd, fabs(y[i] - ref[i]));
        CHECK_MSG(maxd <= 1e-6, "%u->%u: block output differs by %g", in, out, maxd);
        scribe_resampler_free(r);
        free(y);
        free(ref);
        free(x);
    }
}

TEST(resample_delay_compensated) {
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        uint32_t in = pairs[p][0], out = pairs[p][1];
        size_t n = in / 4;
        float *x = malloc(n * sizeof(float));
        /* sine phase: output n must equal the sine at time n / out */
        const double f = 441.0;
        for (size_t i = 0; i < n; i++) x[i] = (float)sin(2 * PI * f * i / in);
        size_t m;
        float *y = resample_all(x, n, in, out, &m);
        if (!y) { free(x); continue; }
        CHECK_MSG(m == (size_t)(((uint64_t)n * out + in - 1) / in), "%u->%u: %zu frames", in, out, m);
        double maxe = 0;
        for (size_t i = m / 8; i < m - m / 8; i++) maxe = fmax(maxe, fabs(y[i] - sin(2 * PI * f * i / out)));
        CHECK_MSG(maxe < 1e-3, "%u->%u: sine phase error %g", in, out, maxe);
        free(y);
        /* click at input time 0.1 s: output peak at 0.1 s */
        memset(x, 0, n * sizeof(float));
        x[in / 10] = 1.0f;
        y = resample_all(x, n, in, out, &m);
        size_t arg = 0;
        for (size_t i = 0; i < m; i++) if (fabs(y[i]) > fabs(y[arg])) arg = i;
        CHECK_MSG(arg == out / 10, "%u->%u: click at output %zu, expected %u", in, out, arg, out / 10);
        free(y);
        free(x);
    }
}

TEST(resample_identity_and_errors) {
    float x[5] = {1, 2, 3, 4, 5}, *y;
    size_t m;
    CHECK_OK(scribe_resample(x, 5, 16000, 16000, &y, &m, NULL));
    CHECK(m == 5 && y[4] == 5.0f);
    scribe_free(y);
    CHECK_OK(scribe_resample(x, 0, 44100, 16000, &y, &m, NULL));
    CHECK(m == 0);
    scribe_free(y);
    scribe_resampler *r;
    scribe_error e;
    CHECK(scribe_resampler_init(0, 16000, &r, &e) == SCRIBE_ERR_INVALID_ARGUMENT && strstr(e.message, "0 Hz"));
    CHECK(scribe_resampler_init(44100, 900000, &r, &e) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK(scribe_resampler_init(768000, 1, &r, &e) == SCRIBE_ERR_UNSUPPORTED);
    CHECK_OK(scribe_resampler_init(44100, 16000, &r, NULL));
    float big[10000] = {0}, o[8000];
    size_t k;
    CHECK(scribe_resampler_process(r, big, 10000, o, 10, &k, &e) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK_OK(scribe_resampler_process(r, big, 10000, o, 8000, &k, NULL));
    CHECK_OK(scribe_resampler_flush(r, o, 8000, &k, NULL));
    CHECK(scribe_resampler_process(r, big, 10, o, 8000, &k, &e) == SCRIBE_ERR_STATE);
    scribe_resampler_free(r);
}
