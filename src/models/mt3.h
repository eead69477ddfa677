/* The MT3 model family: T5 network + event codec + log-mel front end, and its sc_backend
 * (src/models/mt3_backend.c). Also used directly by the WASM bindings for parity tests and benchmarks. */
#ifndef SCRIBE_MT3_H
#define SCRIBE_MT3_H

#include "t5.h"
#include "acoustic.h"
#include "../music/mt3_codec.h"

typedef struct sc_mt3_model {
    sc_t5_model t5;          /* holds the event codec too (t5.codec) */
    int sample_rate, fft, hop, mel_bins;
    float fmin, fmax;
    int acoustic_features;   /* 0 or SC_MT3_AC_FEATURES (config SC_T5_CFG_ACOUSTIC_FEATURES) */
    sc_acoustic_model *ac;   /* the embedded acoustic network when acoustic_features > 0 */
    sc_weights own_weights; /* set by sc_mt3_model_from_buffer */
    int owns_weights;
} sc_mt3_model;

/* Builds the model from parsed weights (checks every tensor against the config). */
scribe_status sc_mt3_model_init(const sc_weights *w, sc_mt3_model **out, scribe_error *err);
/* Parses `buf` (must outlive the model) and builds the model. */
scribe_status sc_mt3_model_from_buffer(const void *buf, size_t len, sc_mt3_model **out, scribe_error *err);
void sc_mt3_model_free(sc_mt3_model *m);

/* Test hook: the encoder inputs a session computes for `x` (n samples at the model rate) fed in
 * blocks of `block` samples (0: all at once), without running the network: *features is
 * malloc'd [*segments][segment_frames][input_features] (free()). max_rows_held (may be NULL):
 * the most acoustic posteriorgram rows the session held at once. */
scribe_status sc_mt3_encoder_inputs(const scribe_model *model, const float *x, size_t n, size_t block,
                                    float **features, size_t *segments, size_t *max_rows_held, scribe_error *err);

#endif
