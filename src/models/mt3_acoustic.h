/* Basic Pitch posteriorgrams as extra MT3 encoder features (our trained models; not in MT3).
 *
 * A model whose weights config has acoustic_features = 176 reads, for every MT3 frame, its 512
 * log-mel bins followed by 88 note and 88 onset posteriors of the acoustic (Basic Pitch) network.
 * The posteriorgrams are computed on the model-rate (16 kHz) signal resampled to the acoustic
 * rate (22050 Hz) with scribe's resampler and the acoustic network's usual windowing
 * (sc_acoustic_posteriorgrams; streaming gives the same rows). MT3 frame i (at i * hop / rate
 * seconds) takes the posteriors at the same time by linear interpolation between the acoustic
 * frames around it (frame j at j * ac_hop / ac_rate s); frames past the signal's last acoustic
 * frame read as 0. The training data pipeline (tools/native/acoustic_features_native.c) and the
 * engine use this one function, so training and inference see identical features. */
#ifndef SCRIBE_MT3_ACOUSTIC_H
#define SCRIBE_MT3_ACOUSTIC_H

#include <stdint.h>

#define SC_MT3_AC_PITCHES 88
#define SC_MT3_AC_FEATURES (2 * SC_MT3_AC_PITCHES)

typedef struct sc_mt3_ac_timing {
    int64_t mt3_hop, mt3_rate; /* 128, 16000 */
    int64_t ac_hop, ac_rate;   /* 256, 22050 */
} sc_mt3_ac_timing;

/* Acoustic frames needed (exclusive upper bound) to fill MT3 frames below `mt3_end`. */
int64_t sc_mt3_ac_frames_needed(const sc_mt3_ac_timing *t, int64_t mt3_end);

/* Writes rows [first, first + rows) of the features, row r at out + r * ld (176 floats).
 * notes/onsets hold acoustic frames j_base .. j_base + n_held - 1 ([n_held][88] each);
 * n_total is the signal's total acoustic frame count (frames >= n_total are 0) or -1 when the
 * signal has not ended. Every frame the rows need below n_total must be held: returns -1 (and
 * writes nothing) otherwise, 0 on success. */
int sc_mt3_ac_rows(const sc_mt3_ac_timing *t, const float *notes, const float *onsets, int64_t j_base,
                   int64_t n_held, int64_t n_total, int64_t first, int rows, float *out, int64_t ld);

#endif
