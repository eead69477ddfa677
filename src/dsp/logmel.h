/* Log-mel spectrogram exactly as MT3 computes it (mt3/spectrograms.py -> ddsp compute_logmel):
 *   frames of fft_size samples every hop samples, no centering, the signal zero-padded at the end
 *   (tf.signal.stft pad_end=True: ceil(n / hop) frames); periodic Hann window; |rfft| (magnitude,
 *   not power); times tf.signal.linear_to_mel_weight_matrix (HTK mel 1127 ln(1 + f/700), triangles
 *   over the fft_size/2+1 linear bins, the DC bin weighted 0); natural log of max(x, log_floor).
 * MT3 computes it per segment: each 256-frame segment's 256 * 128 samples on their own, so the last
 * frames of a segment see zeros, not the next segment's audio. Call sc_logmel_compute once per
 * segment to match it.
 * The FFT, magnitudes and mel sums run in double (KissFFT built for double, kissfft_f64.c) so that
 * quiet bands of loud frames match a float64 reference to ~1e-6 (TF itself runs in float32).
 * State is allocated once at init (window, sparse filterbank, KissFFT config, work buffers);
 * compute allocates nothing. One state serves one thread. */
#ifndef SCRIBE_LOGMEL_H
#define SCRIBE_LOGMEL_H

#include <stddef.h>
#include "../common/common.h"

typedef struct sc_logmel_config {
    uint32_t sample_rate; /* 16000 */
    uint32_t fft_size;    /* 2048 (frame length = FFT length; even) */
    uint32_t hop;         /* 128 */
    uint32_t n_mels;      /* 512 */
    float lo_hz;          /* 20 */
    float hi_hz;          /* 7600 */
    float log_floor;      /* 1e-5 */
} sc_logmel_config;

/* MT3's values (above). */
sc_logmel_config sc_logmel_default_config(void);

typedef struct sc_logmel sc_logmel;

scribe_status sc_logmel_init(const sc_logmel_config *cfg, sc_logmel **out, scribe_error *err);
void sc_logmel_free(sc_logmel *m);
const sc_logmel_config *sc_logmel_get_config(const sc_logmel *m);

/* ceil(n / hop): frames produced for n samples. */
size_t sc_logmel_num_frames(const sc_logmel *m, size_t n);

/* out[f * n_mels + b] for f < sc_logmel_num_frames(n): log-mel of samples[0..n) zero-padded at the end. */
void sc_logmel_compute(sc_logmel *m, const float *samples, size_t n, float *out);

/* One frame from exactly fft_size samples (the caller pads); writes n_mels values. */
void sc_logmel_frame(sc_logmel *m, const float *frame, float *out);

/* The filterbank as a dense (fft_size/2+1) x n_mels matrix (for tests); returns bins written. */
size_t sc_logmel_dense_filterbank(const sc_logmel *m, float *out, size_t cap);

#endif
