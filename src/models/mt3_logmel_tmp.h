/* TEMPORARY stand-in for MT3's log-mel front end until src/dsp/logmel.h merges (then this file goes).
 * ddsp.spectral_ops.compute_logmel as MT3 calls it: STFT (periodic Hann, no centering, pad_end),
 * magnitude, tf.signal.linear_to_mel_weight_matrix (HTK mel, DC band zeroed), log(max(x, 1e-5)). */
#ifndef SCRIBE_MT3_LOGMEL_TMP_H
#define SCRIBE_MT3_LOGMEL_TMP_H

#include "../common/common.h"

typedef struct sc_mt3_logmel {
    int sample_rate, fft, hop, bins, nspec;
    float *window, *filters, *frame, *mag;
    int *lo, *hi;          /* non-zero range of each filter */
    void *fft_cfg;
    void *spec;
} sc_mt3_logmel;

scribe_status sc_mt3_logmel_init(sc_mt3_logmel *lm, int sample_rate, int fft, int hop, int bins, float fmin, float fmax,
                                 scribe_error *err);
void sc_mt3_logmel_free(sc_mt3_logmel *lm);
/* Frames of `n` samples: ceil(n / hop) rows of `bins` into out (zeros past the end of x). */
void sc_mt3_logmel_compute(sc_mt3_logmel *lm, const float *x, size_t n, float *out);

#endif
