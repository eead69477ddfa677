/* WASM exports for note lists, CSV, MIDI and metrics. Bindings contain no logic:
 * JS (web/engine/music.js) reads and writes the structs through the layout sizes below. */
#include <emscripten/emscripten.h>
#include <stdlib.h>
#include "../common/common.h"

EMSCRIPTEN_KEEPALIVE size_t wasm_note_size(void) { return sizeof(scribe_note); }
EMSCRIPTEN_KEEPALIVE size_t wasm_bend_size(void) { return sizeof(scribe_bend); }
EMSCRIPTEN_KEEPALIVE size_t wasm_eval_params_size(void) { return sizeof(scribe_eval_params); }
EMSCRIPTEN_KEEPALIVE size_t wasm_eval_result_size(void) { return sizeof(scribe_eval_result); }

/* wasm_notes_new/free/clear/count/data/bends/push live in bind_session.c. */
EMSCRIPTEN_KEEPALIVE size_t wasm_notes_bend_count(const scribe_notes *l) { return l->bend_count; }
EMSCRIPTEN_KEEPALIVE void wasm_notes_sort(scribe_notes *l) { scribe_notes_sort(l); }

EMSCRIPTEN_KEEPALIVE int wasm_notes_write_csv(const scribe_notes *l, char **out, size_t *out_len, scribe_error *err) {
    return scribe_notes_write_csv(l, out, out_len, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_notes_read_csv(const char *text, size_t len, scribe_notes *out, scribe_error *err) {
    return scribe_notes_read_csv(text, len, out, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_midi_write(const scribe_notes *l, uint8_t **out, size_t *out_len, scribe_error *err) {
    return scribe_midi_write(l, out, out_len, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_midi_read(const uint8_t *bytes, size_t len, scribe_notes *out, scribe_error *err) {
    return scribe_midi_read(bytes, len, out, err);
}

EMSCRIPTEN_KEEPALIVE void wasm_eval_default_params(scribe_eval_params *p) { *p = scribe_eval_default_params(); }
EMSCRIPTEN_KEEPALIVE int wasm_evaluate(const scribe_notes *ref, const scribe_notes *est, const scribe_eval_params *p,
                                       scribe_eval_result *out, scribe_error *err) {
    return scribe_evaluate(ref, est, p, out, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_evaluate_onset_sweep(const scribe_notes *ref, const scribe_notes *est,
                                                   const double *tolerances, size_t n, scribe_prf *out,
                                                   scribe_error *err) {
    return scribe_evaluate_onset_sweep(ref, est, tolerances, n, out, err);
}
