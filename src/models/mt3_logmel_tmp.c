/* TEMPORARY log-mel stand-in (see mt3_logmel_tmp.h). */
#include "mt3_logmel_tmp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kiss_fftr.h"

static double hz_to_mel(double hz) { return 1127.0 * log(1.0 + hz / 700.0); }

scribe_status sc_mt3_logmel_init(sc_mt3_logmel *lm, int sample_rate, int fft, int hop, int bins, float fmin, float fmax,
                                 scribe_error *err) {
    memset(lm, 0, sizeof *lm);
    if (sample_rate < 1000 || fft < 16 || fft > 65536 || (fft & 1) || hop < 1 || bins < 1 || bins > 4096 ||
        !(fmin >= 0) || !(fmax > fmin) || fmax > sample_rate / 2.0f + 1)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "log-mel config (rate %d, fft %d, hop %d, bins %d, %g..%g Hz) invalid",
                       sample_rate, fft, hop, bins, fmin, fmax);
    lm->sample_rate = sample_rate;
    lm->fft = fft;
    lm->hop = hop;
    lm->bins = bins;
    lm->nspec = fft / 2 + 1;
    lm->window = malloc((size_t)fft * sizeof(float));
    lm->frame = malloc((size_t)fft * sizeof(float));
    lm->mag = malloc((size_t)lm->nspec * sizeof(float));
    lm->filters = calloc((size_t)bins * lm->nspec, sizeof(float));
    lm->lo = calloc((size_t)bins, sizeof(int));
    lm->hi = calloc((size_t)bins, sizeof(int));
    lm->spec = malloc((size_t)lm->nspec * sizeof(kiss_fft_cpx));
    lm->fft_cfg = kiss_fftr_alloc(fft, 0, NULL, NULL);
    if (!lm->window || !lm->frame || !lm->mag || !lm->filters || !lm->lo || !lm->hi || !lm->spec || !lm->fft_cfg) {
        sc_mt3_logmel_free(lm);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the log-mel front end");
    }
    for (int i = 0; i < fft; i++) lm->window[i] = (float)(0.5 - 0.5 * cos(6.283185307179586 * i / fft));
    double mlo = hz_to_mel(fmin), mhi = hz_to_mel(fmax), nyq = sample_rate / 2.0;
    for (int b = 0; b < bins; b++) {
        double l = mlo + (mhi - mlo) * b / (bins + 1), c = mlo + (mhi - mlo) * (b + 1) / (bins + 1),
               u = mlo + (mhi - mlo) * (b + 2) / (bins + 1);
        float *f = lm->filters + (size_t)b * lm->nspec;
        lm->lo[b] = lm->nspec;
        lm->hi[b] = 0;
        for (int k = 1; k < lm->nspec; k++) { /* DC band zeroed */
            double mel = hz_to_mel(nyq * k / (lm->nspec - 1));
            double w1 = (mel - l) / (c - l), w2 = (u - mel) / (u - c), w = w1 < w2 ? w1 : w2;
            if (w > 0) {
                f[k] = (float)w;
                if (k < lm->lo[b]) lm->lo[b] = k;
                lm->hi[b] = k + 1;
            }
        }
    }
    return sc_ok(err);
}

void sc_mt3_logmel_free(sc_mt3_logmel *lm) {
    if (!lm) return;
    free(lm->window);
    free(lm->frame);
    free(lm->mag);
    free(lm->filters);
    free(lm->lo);
    free(lm->hi);
    free(lm->spec);
    kiss_fftr_free(lm->fft_cfg);
    memset(lm, 0, sizeof *lm);
}

void sc_mt3_logmel_compute(sc_mt3_logmel *lm, const float *x, size_t n, float *out) {
    size_t frames = (n + (size_t)lm->hop - 1) / (size_t)lm->hop;
    kiss_fft_cpx *spec = lm->spec;
    for (size_t f = 0; f < frames; f++) {
        size_t start = f * (size_t)lm->hop;
        for (int i = 0; i < lm->fft; i++) {
            size_t j = start + (size_t)i;
            lm->frame[i] = j < n ? x[j] * lm->window[i] : 0.0f;
        }
        kiss_fftr(lm->fft_cfg, lm->frame, spec);
        for (int k = 0; k < lm->nspec; k++) lm->mag[k] = sqrtf(spec[k].r * spec[k].r + spec[k].i * spec[k].i);
        float *o = out + f * (size_t)lm->bins;
        for (int b = 0; b < lm->bins; b++) {
            const float *w = lm->filters + (size_t)b * lm->nspec;
            float s = 0;
            for (int k = lm->lo[b]; k < lm->hi[b]; k++) s += w[k] * lm->mag[k];
            o[b] = logf(s > 1e-5f ? s : 1e-5f);
        }
    }
}
