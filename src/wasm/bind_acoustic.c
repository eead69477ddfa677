/* WASM exports for the acoustic model's tests and benchmark (posteriorgrams, resampling).
 * Bindings contain no logic: each forwards to one engine call. */
#include <emscripten/emscripten.h>
#include <stddef.h>
#include "../common/common.h"
#include "../models/acoustic.h"
#include "../music/acoustic_notes.h"

/* out[0..2] receive malloc'd contours [n][264], notes [n][88], onsets [n][88] (free with wasm_free);
 * stats[0..3]: FLOPs in the CQT and the convolutions, seconds in each. */
EMSCRIPTEN_KEEPALIVE int wasm_acoustic_posteriorgrams(const scribe_model *m, const float *x, size_t n, float **out,
                                                      int *n_frames, double *stats, scribe_error *err) {
    return sc_acoustic_posteriorgrams(m, x, n, &out[0], &out[1], &out[2], n_frames, stats, err);
}

EMSCRIPTEN_KEEPALIVE int wasm_acoustic_resample(const float *x, size_t n, uint32_t in_rate, uint32_t out_rate,
                                                float **out, size_t *out_n, scribe_error *err) {
    return scribe_resample(x, n, in_rate, out_rate, out, out_n, err);
}

/* Note creation on given posteriorgrams (frames/onsets [n][88], contours [n][264]). */
EMSCRIPTEN_KEEPALIVE int wasm_acoustic_notes(const float *frames, const float *onsets, const float *contours, int n,
                                             const scribe_session_params *p, scribe_notes *out, scribe_error *err) {
    return sc_acoustic_notes(frames, onsets, contours, n, p, out, err);
}
