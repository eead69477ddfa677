/* Constant-Q transform as Basic Pitch computes it (nnAudio CQT2010v2): the same 256-tap complex
 * kernel for every octave, applied with a stride that halves per octave to a signal low-passed
 * and decimated by 2 per octave. Output magnitudes of the top `n_bins` bins, scaled per bin. */
#ifndef SCRIBE_CQT_H
#define SCRIBE_CQT_H

#include <stddef.h>

typedef struct sc_cqt {
    int taps;            /* kernel length (256); reflect pad taps/2, low-pass zero pad taps/2 - 1 */
    int bins_per_octave; /* 36 */
    int octaves;         /* 9 */
    int n_bins;          /* bins kept (the top ones) */
    int hop;             /* hop at the full rate (256) */
    const float *kernels; /* [taps][2*bins_per_octave]: real then imaginary */
    const float *lowpass; /* [taps] */
    const float *lowpass_poly; /* [taps + 2 * (SC_CQT_PHASES - 1)][SC_CQT_PHASES], from sc_cqt_lowpass_poly */
    const float *scale;   /* [n_bins] */
} sc_cqt;

/* The decimator computes SC_CQT_PHASES consecutive outputs per matrix row (one sc_matmul). */
#define SC_CQT_PHASES 8
/* Fills poly[(taps + 2 * (PHASES - 1)) * PHASES]: poly[k][q] = lowpass[k - 2q] (0 outside). */
void sc_cqt_lowpass_poly(const float *lowpass, int taps, float *poly);

/* Frames produced for `n` samples: floor(n / hop) + 1. */
int sc_cqt_frames(const sc_cqt *c, int n);
/* Floats of scratch needed in `sig`, `sig2` and `tmp` for `n` samples. */
size_t sc_cqt_scratch_floats(const sc_cqt *c, int n);
/* out[frame][bin] = scale[bin] * |X|, bins ascending in frequency. Allocates nothing.
 * Returns the FLOPs spent (multiply-add = 2). */
double sc_cqt_run(const sc_cqt *c, const float *x, int n, float *sig, float *sig2, float *tmp, float *out);

#endif
