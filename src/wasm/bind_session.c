/* WASM exports for models and sessions. Bindings contain no logic:
 * each forwards to the public API. */
#include <emscripten/emscripten.h>
#include <stddef.h>
#include <stdlib.h>
#include "../common/common.h"

/* Note lists are bound in bind_music.c (web/engine/music.js reads them). */

EMSCRIPTEN_KEEPALIVE scribe_model *wasm_model_load(const void *bytes, size_t len, scribe_error *err) {
    scribe_model *m = NULL;
    return scribe_model_init_from_buffer(bytes, len, &m, err) ? NULL : m;
}
EMSCRIPTEN_KEEPALIVE int wasm_model_kind(const scribe_model *m) { return scribe_model_get_kind(m); }
EMSCRIPTEN_KEEPALIVE uint32_t wasm_model_sample_rate(const scribe_model *m) { return scribe_model_sample_rate(m); }
EMSCRIPTEN_KEEPALIVE const char *wasm_model_describe(const scribe_model *m) { return scribe_model_describe(m); }
EMSCRIPTEN_KEEPALIVE void wasm_model_free(scribe_model *m) { scribe_model_free(m); }

EMSCRIPTEN_KEEPALIVE scribe_session_params *wasm_params_new(void) {
    scribe_session_params *p = malloc(sizeof *p);
    if (p) *p = scribe_session_default_params();
    return p;
}
/* Field ids are the order of web/engine/session.js PARAM_FIELDS. */
EMSCRIPTEN_KEEPALIVE int wasm_params_set(scribe_session_params *p, int field, double v) {
    switch (field) {
    case 0: p->input_sample_rate = (uint32_t)v; return 0;
    case 1: p->max_decode_tokens = (int32_t)v; return 0;
    case 2: p->fixed_decode_tokens = (int32_t)v; return 0;
    case 3: p->batch_segments = (int32_t)v; return 0;
    case 4: p->onset_threshold = (float)v; return 0;
    case 5: p->frame_threshold = (float)v; return 0;
    case 6: p->min_note_frames = (int32_t)v; return 0;
    case 7: p->min_frequency_hz = (float)v; return 0;
    case 8: p->max_frequency_hz = (float)v; return 0;
    case 9: p->infer_onsets = (int32_t)v; return 0;
    case 10: p->melodia_trick = (int32_t)v; return 0;
    case 11: p->pitch_bends = (int32_t)v; return 0;
    case 12: p->energy_tolerance = (int32_t)v; return 0;
    case 13: p->stream_notes = (int32_t)v; return 0;
    case 14: p->max_pending_seconds = (float)v; return 0;
    }
    return -1;
}

EMSCRIPTEN_KEEPALIVE scribe_session *wasm_session_new(const scribe_model *m, const scribe_session_params *p,
                                                      scribe_error *err) {
    scribe_session *s = NULL;
    return scribe_session_init(m, p, &s, err) ? NULL : s;
}
EMSCRIPTEN_KEEPALIVE int wasm_session_feed(scribe_session *s, const float *x, size_t n, scribe_error *err) {
    return scribe_session_feed(s, x, n, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_session_finish(scribe_session *s, scribe_error *err) { return scribe_session_finish(s, err); }
EMSCRIPTEN_KEEPALIVE int wasm_session_take(scribe_session *s, scribe_notes *out, scribe_error *err) {
    return scribe_session_take_notes(s, out, err);
}
EMSCRIPTEN_KEEPALIVE void wasm_session_cancel(scribe_session *s) { scribe_session_cancel(s); }
EMSCRIPTEN_KEEPALIVE double wasm_session_seconds_done(const scribe_session *s) { return scribe_session_seconds_done(s); }
EMSCRIPTEN_KEEPALIVE double wasm_session_seconds_fed(const scribe_session *s) { return scribe_session_seconds_fed(s); }
EMSCRIPTEN_KEEPALIVE void wasm_session_free(scribe_session *s) { scribe_session_free(s); }
