/* Basic Pitch posteriorgrams as extra MT3 encoder features (our trained models; not in MT3).
 *
 * A model whose weights config has acoustic_features = 176 reads, for every MT3 frame, its 512
 * log-mel bins followed by 88 note and 88 onset posteriors of the acoustic (Basic Pitch) network.
 * The posteriorgrams are computed on the model-rate (16 kHz) signal resampled to the acoustic
 * rate (22050 Hz) with scribe's resampler and the acoustic network's usual windowing
 * (sc_acoustic_window_rows; streaming gives the same rows). MT3 frame i (at i * hop / rate
 * seconds) takes the posteriors at the same time by linear interpolation between the acoustic
 * rows around it; rows past the signal's last acoustic row read as 0.
 *
 * Row times follow the windowing, not j * ac_hop: a window starts every `ac_step` samples (36164)
 * and gives `ac_keep` rows (142) at ac_hop spacing, so row j = k * ac_keep + r is at
 * k * ac_step + r * ac_hop samples. 142 rows span 36352 samples, 188 more than a step: rows taken
 * as evenly spaced drift 5.2 ms per second (0.3 s after a minute). Sessions 1-6 did that, and the
 * features of most training segments sat far from their notes. The training data pipeline
 * (tools/native/acoustic_features_native.c, via sc_mt3_ac_whole) and the engine use these
 * functions, so training and inference see identical features. */
#ifndef SCRIBE_MT3_ACOUSTIC_H
#define SCRIBE_MT3_ACOUSTIC_H

#include <stddef.h>
#include <stdint.h>

#include "scribe.h"

#define SC_MT3_AC_PITCHES 88
#define SC_MT3_AC_LOWEST_PITCH 21 /* A0: the acoustic network's first note bin */
#define SC_MT3_AC_FEATURES (2 * SC_MT3_AC_PITCHES)

typedef struct sc_mt3_ac_timing {
    int64_t mt3_hop, mt3_rate; /* 128, 16000 */
    int64_t ac_hop, ac_rate;   /* 256, 22050 */
    int64_t ac_step, ac_keep;  /* 36164 samples between windows, 142 rows kept per window */
} sc_mt3_ac_timing;

struct sc_acoustic_model;

/* The timing of an acoustic network's windows for MT3 frames of mt3_hop samples at mt3_rate. */
sc_mt3_ac_timing sc_mt3_ac_timing_of(const struct sc_acoustic_model *m, int64_t mt3_hop, int64_t mt3_rate);

/* Acoustic frames needed (exclusive upper bound) to fill MT3 frames below `mt3_end`. */
int64_t sc_mt3_ac_frames_needed(const sc_mt3_ac_timing *t, int64_t mt3_end);

/* Writes rows [first, first + rows) of the features, row r at out + r * ld (176 floats).
 * notes/onsets hold acoustic frames j_base .. j_base + n_held - 1 ([n_held][88] each);
 * n_total is the signal's total acoustic frame count (frames >= n_total are 0) or -1 when the
 * signal has not ended. Every frame the rows need below n_total must be held: returns -1 (and
 * writes nothing) otherwise, 0 on success. */
int sc_mt3_ac_rows(const sc_mt3_ac_timing *t, const float *notes, const float *onsets, int64_t j_base,
                   int64_t n_held, int64_t n_total, int64_t first, int rows, float *out, int64_t ld);

/* Whole-signal features (training data, tests): 16 kHz samples -> 22050 Hz (scribe's resampler)
 * -> acoustic network (sc_acoustic_window_rows) -> rows. With rows < 0, as many rows as reach the
 * last acoustic row (later rows would be all zero). *out is malloc'd [*n_rows][176]. */
scribe_status sc_mt3_ac_whole(const scribe_model *ac, const float *x16, size_t n16, int64_t rows, float **out,
                              int64_t *n_rows, scribe_error *err);

#endif
