/* Constant-Q transform as Basic Pitch computes it (nnAudio CQT2010v2): the same 256-tap complex
 * kernel for every octave, applied with a stride that halves per octave to a signal low-passed
 * and decimated by 2 per octave. Output magnitudes of the top `n_bins` bins, scaled per bin. */
#ifndef SCRIBE_CQT_H
#define SCRIBE_CQT_H

#include <stddef.h>

/* Bins whose kernels are non-zero only on taps [k0, k0 + klen): one matmul with K = klen. */
typedef struct sc_cqt_group {
    int bin0, nbins, k0, klen;
    const float *kern; /* [klen][2 * nbins]: real then imaginary */
} sc_cqt_group;

#define SC_CQT_GROUP_BINS 12
#define SC_CQT_MAX_GROUPS 16

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
    int n_groups;         /* 0: use `kernels` whole */
    sc_cqt_group groups[SC_CQT_MAX_GROUPS];
} sc_cqt;

/* Splits the kernel matrix into groups of SC_CQT_GROUP_BINS bins trimmed to their non-zero taps
 * (the kernels of higher bins are shorter). `store` needs taps * 2 * bins_per_octave floats.
 * Returns the number of groups (0 if bins_per_octave is not a multiple of the group size). */
int sc_cqt_make_groups(sc_cqt *c, float *store);

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
