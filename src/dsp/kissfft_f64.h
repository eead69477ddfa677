/* KissFFT's real FFT in double precision under sc_kfd* names (see kissfft_f64.c).
 * The float build of KissFFT (kiss_fft_scalar=float) stays available under its own names. */
#ifndef SCRIBE_KISSFFT_F64_H
#define SCRIBE_KISSFFT_F64_H

#include <stddef.h>

typedef struct {
    double r;
    double i;
} sc_kfd_cpx;

struct sc_kfdr_state;
/* Same contract as kiss_fftr_alloc / kiss_fftr / kiss_fftr_free (free() the config). */
struct sc_kfdr_state *sc_kfdr_alloc(int nfft, int inverse_fft, void *mem, size_t *lenmem);
void sc_kfdr(struct sc_kfdr_state *cfg, const double *timedata, sc_kfd_cpx *freqdata);

#endif
